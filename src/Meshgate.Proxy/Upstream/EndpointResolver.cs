using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Turns an endpoint's address (an IP, or a host name as snapshots carry them) into IP addresses, and keeps
/// them fresh the way Envoy does for DNS clusters:
/// <list type="bullet">
/// <item>an answer is reused for its TTL, bounded to [<see cref="MinTtl"/>, <see cref="MaxTtl"/>];</item>
/// <item>a failed lookup keeps the last good answer and is retried after an exponential backoff
/// (<see cref="FirstBackoff"/> doubling up to <see cref="MaxBackoff"/>), so a dead server is not asked on every request;</item>
/// <item>concurrent lookups of one name share one query;</item>
/// <item>only a name never resolved makes a request wait for the lookup; once a name has an answer, a request
/// that finds it expired waits at most <see cref="RefreshWait"/> for the new one, then uses the last good answer
/// while the refresh goes on.</item>
/// </list>
/// Time comes from a <see cref="TimeProvider"/>, so tests move a fake clock across TTLs and backoffs.
/// </summary>
public sealed partial class EndpointResolver
{
    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxTtl = TimeSpan.FromSeconds(300);
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    public static readonly TimeSpan RefreshWait = TimeSpan.FromMilliseconds(250);

    private readonly ConcurrentDictionary<string, Name> _names = new(StringComparer.OrdinalIgnoreCase);
    private readonly INameLookup _lookup;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    public EndpointResolver(INameLookup lookup, TimeProvider time, ILogger? logger = null)
    {
        _lookup = lookup;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The system resolver when <paramref name="servers"/> is empty, otherwise those servers after /etc/hosts.</summary>
    public static EndpointResolver Create(IReadOnlyList<IPEndPoint> servers, TimeProvider time, ILogger? logger = null) =>
        new(servers.Count == 0 ? new SystemLookup() : new DnsServerLookup(servers), time, logger);

    /// <summary>For the startup log: what names are resolved with.</summary>
    public string Description => _lookup.Description;

    /// <summary>
    /// The addresses of <paramref name="address"/>: itself when it is an IP, otherwise the latest answer
    /// (empty when the name has no address or was never resolved successfully).
    /// </summary>
    public ValueTask<IPAddress[]> ResolveAsync(string address, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(address, out var ip))
        {
            return ValueTask.FromResult<IPAddress[]>([ip]);
        }

        var name = _names.GetOrAdd(address, static n => new Name(n));
        var known = name.Known;
        if (known is not null && _time.GetUtcNow() < known.RefreshAt)
        {
            return ValueTask.FromResult(known.Addresses);
        }

        return RefreshAsync(name, known, cancellationToken);
    }

    private async ValueTask<IPAddress[]> RefreshAsync(Name name, Known? known, CancellationToken cancellationToken)
    {
        var refresh = StartRefresh(name);
        if (known is null)
        {
            // Never resolved: there is nothing else to use.
            return (await refresh.WaitAsync(cancellationToken).ConfigureAwait(false)).Addresses;
        }

        try
        {
            return (await refresh.WaitAsync(RefreshWait, _time, cancellationToken).ConfigureAwait(false)).Addresses;
        }
        catch (TimeoutException)
        {
            return known.Addresses; // the refresh goes on and the next request gets its answer
        }
    }

    /// <summary>The lookup in flight for this name, or a new one; one at a time per name.</summary>
    private Task<Known> StartRefresh(Name name)
    {
        lock (name.Gate)
        {
            if (name.Refresh is { IsCompleted: false } running)
            {
                return running;
            }

            // Another request may have finished a refresh since this one read the answer.
            if (name.Known is { } known && _time.GetUtcNow() < known.RefreshAt)
            {
                return Task.FromResult(known);
            }

            name.Refresh = LookupAsync(name);
            return name.Refresh;
        }
    }

    private async Task<Known> LookupAsync(Name name)
    {
        await Task.Yield(); // never run the query under the caller's lock
        LookupResult result;
        try
        {
            // Not the request's token: the answer is for every request, and the lookup bounds its own time.
            result = await _lookup.LookupAsync(name.Host, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result = LookupResult.Failed(e.GetType().Name);
        }

        var now = _time.GetUtcNow();
        var previous = name.Known;
        Known next;
        if (result.IsAnswer)
        {
            var ttl = result.Ttl < MinTtl ? MinTtl : result.Ttl > MaxTtl ? MaxTtl : result.Ttl;
            next = new Known(result.Addresses, now + ttl, Failures: 0);
            if (previous is { Failures: > 0 })
            {
                Log.Recovered(_logger, name.Host, previous.Failures, Format(next.Addresses));
            }
        }
        else
        {
            var failures = (previous?.Failures ?? 0) + 1;
            var backoff = Backoff(failures);
            next = new Known(previous?.Addresses ?? [], now + backoff, failures);
            Log.LookupFailed(_logger, name.Host, result.Error!, previous is null ? "nothing" : Format(next.Addresses), backoff.TotalSeconds);
        }

        name.Known = next;
        return next;
    }

    /// <summary>How long to wait after the <paramref name="failures"/>-th failure in a row: 1 s, 2 s, 4 s... capped.</summary>
    public static TimeSpan Backoff(int failures)
    {
        var seconds = FirstBackoff.TotalSeconds * Math.Pow(2, Math.Min(failures - 1, 30));
        return seconds >= MaxBackoff.TotalSeconds ? MaxBackoff : TimeSpan.FromSeconds(seconds);
    }

    private static string Format(IPAddress[] addresses) => addresses.Length == 0 ? "no address" : string.Join(", ", addresses.Select(a => a.ToString()));

    /// <summary>What is known of one name: the addresses to use, and when to ask again.</summary>
    private sealed record Known(IPAddress[] Addresses, DateTimeOffset RefreshAt, int Failures);

    /// <summary>One host name's state; <see cref="Known"/> is swapped whole, read without a lock.</summary>
    private sealed class Name(string host)
    {
        private Known? _known;

        public string Host => host;

        public Lock Gate { get; } = new();

        public Known? Known
        {
            get => Volatile.Read(ref _known);
            set => Volatile.Write(ref _known, value);
        }

        /// <summary>Guarded by <see cref="Gate"/>.</summary>
        public Task<Known>? Refresh { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "resolving {Host} failed ({Error}); using {Addresses}, next try in {Seconds} s")]
        public static partial void LookupFailed(ILogger logger, string host, string error, string addresses, double seconds);

        [LoggerMessage(2, LogLevel.Information, "resolving {Host} works again after {Failures} failures: {Addresses}")]
        public static partial void Recovered(ILogger logger, string host, int failures, string addresses);
    }
}
