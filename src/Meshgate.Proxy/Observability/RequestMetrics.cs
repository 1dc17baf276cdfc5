namespace Meshgate.Proxy.Observability;

/// <summary>
/// <c>istio_requests_total</c> and <c>istio_request_duration_milliseconds</c> for one <see cref="RequestKey"/>.
/// Lock-free: a request adds to one bucket and the sum; the total is the buckets' sum, so a scrape always sees
/// <c>_count</c> equal to the <c>+Inf</c> bucket.
/// </summary>
public sealed class RequestMetrics(RequestKey key)
{
    /// <summary>
    /// Istio's buckets for <c>istio_request_duration_milliseconds</c>, in milliseconds (its stats plugin's defaults;
    /// the upper bound of each bucket, <c>+Inf</c> implied).
    /// </summary>
    public static readonly double[] DurationBuckets = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

    private readonly long[] _buckets = new long[DurationBuckets.Length + 1];
    private long _sumTicks;

    public RequestKey Key { get; } = key;

    /// <summary>Counts one request that took <paramref name="duration"/>.</summary>
    public void Record(TimeSpan duration)
    {
        var milliseconds = duration.TotalMilliseconds;
        var bucket = 0;
        while (bucket < DurationBuckets.Length && milliseconds > DurationBuckets[bucket])
        {
            bucket++;
        }

        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Add(ref _sumTicks, duration.Ticks);
    }

    /// <summary>Requests counted so far.</summary>
    public long Count
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _buckets.Length; i++)
            {
                total += Interlocked.Read(ref _buckets[i]);
            }

            return total;
        }
    }

    /// <summary>The sum of all durations, in milliseconds.</summary>
    public double SumMilliseconds => TimeSpan.FromTicks(Interlocked.Read(ref _sumTicks)).TotalMilliseconds;

    /// <summary>Copies the per-bucket (not cumulative) counts, the last being <c>+Inf</c>, into <paramref name="destination"/>.</summary>
    public void CopyBuckets(Span<long> destination)
    {
        for (var i = 0; i < _buckets.Length; i++)
        {
            destination[i] = Interlocked.Read(ref _buckets[i]);
        }
    }
}
