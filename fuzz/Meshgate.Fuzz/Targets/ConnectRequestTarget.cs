using System.IO.Pipelines;

using Meshgate.Proxy.Capture;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// <see cref="ConnectRequestReader.ReadAsync"/> never throws on any head, whole or in small segments, and a CONNECT it
/// accepts names a host and a port.
/// </summary>
public static class ConnectRequestTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var bytes = input.ToArray();
        var whole = Read(PipeReader.Create(new System.Buffers.ReadOnlySequence<byte>(bytes)));
        var split = Read(PipeReader.Create(Segments.Split(bytes, 3)));
        if (whole.Status != split.Status || whole.Target != split.Target)
        {
            throw new FuzzAssertionException($"one segment read {whole.Status} {whole.Target}, 3-byte segments {split.Status} {split.Target}");
        }

        if (whole.Status == ConnectStatus.Connect && (string.IsNullOrEmpty(whole.Target.Host) || whole.Target.Port is <= 0 or > 65535))
        {
            throw new FuzzAssertionException($"accepted CONNECT target {whole.Target}");
        }
    }

    private static (ConnectStatus Status, OriginalDestination Target) Read(PipeReader reader)
    {
        var task = ConnectRequestReader.ReadAsync(reader, CancellationToken.None);
        if (!task.IsCompleted)
        {
            throw new FuzzAssertionException("the read waited for more bytes after the input was complete");
        }

        var (status, target, _) = task.GetAwaiter().GetResult();
        return (status, target);
    }
}
