using System.Buffers;

using Meshgate.Fuzz.Targets;

using SharpFuzz;

// AFL++ harness: `Meshgate.Fuzz TARGET` runs that target under afl-fuzz (persistent, in-process: SharpFuzz's fork
// server); `Meshgate.Fuzz TARGET FILE...` runs it once per file, as a reproducer for a crash afl-fuzz saved.
// `Meshgate.Fuzz --snapshot-json FILE`: a YAML snapshot (samples/proxy, translation goldens) as the exact JSON the
// control plane sends, for seeding the snapshot corpus (fuzz/README.md, "Seeds").
if (args is ["--snapshot-json", var yaml])
{
    var loaded = Meshgate.Core.ProxyConfiguration.ProxyConfigLoader.Load(File.ReadAllText(yaml), yaml);
    if (loaded.Config is null)
    {
        Console.Error.WriteLine(string.Join(Environment.NewLine, loaded.Errors));
        return 1;
    }

    Console.Write(Meshgate.Core.ProxyConfiguration.ProxyConfigLoader.ToJson(loaded.Config));
    return 0;
}

if (args.Length == 0 || !FuzzTargets.All.TryGetValue(args[0], out var target))
{
    Console.Error.WriteLine($"usage: Meshgate.Fuzz TARGET [FILE...]; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
    return 2;
}

if (args.Length > 1)
{
    foreach (var file in args.Skip(1))
    {
        target(File.ReadAllBytes(file));
        Console.WriteLine($"{file}: ok");
    }

    return 0;
}

Fuzzer.Run(stream =>
{
    var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
    try
    {
        var length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        target(buffer.AsSpan(0, length));
    }
    finally
    {
        ArrayPool<byte>.Shared.Return(buffer);
    }
});
return 0;
