namespace Meshgate.Fuzz.Targets;

/// <summary>A parser returned, but broke a property its contract states (not an exception it may throw).</summary>
public sealed class FuzzAssertionException(string message) : Exception(message);
