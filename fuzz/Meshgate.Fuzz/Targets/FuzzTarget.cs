namespace Meshgate.Fuzz.Targets;

/// <summary>
/// One parser under test: it must return (or throw only the exceptions its contract names for bad input) for any
/// bytes. Anything else that escapes is a defect: afl-fuzz saves the input as a crash, the fixed-seed test fails.
/// </summary>
public delegate void FuzzTarget(ReadOnlySpan<byte> input);
