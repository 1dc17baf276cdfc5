using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// A snapshot as a proxy receives it (<see cref="ProxyConfigLoader.LoadJson"/>: the strict reader, the schema walk
/// for what it refuses, then the consistency check). Bad input is a result with errors, never an exception; a
/// snapshot it accepts writes out as JSON that reads back equal (what <c>/config_dump</c> promises).
/// </summary>
public static class SnapshotTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var loaded = ProxyConfigLoader.LoadJson(input.ToArray(), "fuzz");
        if ((loaded.Config is null) == (loaded.Errors.Count == 0))
        {
            throw new FuzzAssertionException($"a snapshot {(loaded.Config is null ? "missing without" : "given with")} errors");
        }

        if (loaded.Config is { } config)
        {
            var again = ProxyConfigLoader.LoadJson(ProxyConfigLoader.ToJsonUtf8(config), "fuzz (written back)");
            if (again.Config != config)
            {
                throw new FuzzAssertionException($"the snapshot written back reads differently: {string.Join("; ", again.Errors)}");
            }
        }
    }
}
