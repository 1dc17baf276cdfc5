namespace Meshgate.Proxy.Observability;

/// <summary>How <see cref="AccessLogWriter"/> buffers lines.</summary>
public sealed record AccessLogWriterOptions
{
    public static AccessLogWriterOptions Default { get; } = new();

    /// <summary>
    /// Entries waiting to be formatted; past this, new entries are dropped and counted, never waited for.
    /// Must cover the request rate times <see cref="FlushInterval"/>: the default takes 160,000 lines per second.
    /// </summary>
    public int Capacity { get; init; } = 16_384;

    /// <summary>
    /// How long the writer lets a batch gather after the first entry arrives (Envoy batches its file access logs the same
    /// way, by a flush interval and a minimum size).
    /// While it waits, enqueuing wakes nobody, so a busy proxy pays one wake-up per interval rather than one per request.
    /// Zero writes as soon as entries arrive.
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Formatted bytes after which a batch is written without waiting for the rest.</summary>
    public int MaxBatchBytes { get; init; } = 64 * 1024;
}
