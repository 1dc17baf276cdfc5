namespace Meshgate.Proxy.Observability;

/// <summary>How <see cref="AccessLogWriter"/> buffers lines.</summary>
public sealed record AccessLogWriterOptions
{
    public static AccessLogWriterOptions Default { get; } = new();

    /// <summary>
    /// Entries waiting to be formatted; past this, new entries are dropped and counted, never waited for.
    /// Must cover the request rate times <see cref="FlushInterval"/>: with the defaults, 1.6 million lines per second.
    /// </summary>
    public int Capacity { get; init; } = 16_384;

    /// <summary>
    /// How long the writer lets a batch gather after the first entry arrives (Envoy batches its file access logs the same
    /// way, by a flush interval and a minimum size).
    /// While it waits, enqueuing wakes nobody, so a busy proxy pays one wake-up per interval rather than one per request.
    /// Zero writes as soon as entries arrive.
    /// </summary>
    /// <remarks>
    /// Short on purpose: the writer formats a whole batch in one go, and on a proxy held to one core that run takes the
    /// core from the request threads. At 50,000 requests per second a 100 ms batch put a stall every 100 ms into the
    /// latency tail: p99 3.1 ms against 1.8–2.0 ms with 10 ms batches, the same as with no access log (bench/RESULTS.md,
    /// fifth session), for 100 wake-ups a second.
    /// </remarks>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Formatted bytes after which a batch is written without waiting for the rest.</summary>
    public int MaxBatchBytes { get; init; } = 64 * 1024;
}
