using System.Diagnostics;
using System.Globalization;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Push;

/// <summary>Builds one node key's snapshot from the stored configuration; <see cref="PushService.Translate"/> is the real one.</summary>
public delegate ProxyConfig SnapshotTranslator(ResourceSet resources, ProxyNode node, string version);

/// <summary>
/// Keeps every connected proxy on the newest snapshot for its node key (DESIGN.md "Data flow"): store changes are
/// debounced (<see cref="Debouncer"/>), each key is translated once per push and validated, and each proxy of the key
/// whose last offered version differs gets the new one in its one-slot outbox (state of the world, latest wins).
/// The key is the effective one (<see cref="Translator.KeyFor"/>): sidecars whose labels no configuration reads share
/// one. Versions are <c>&lt;store revision&gt;-&lt;per-key counter&gt;</c>; the counter moves only when the content changes.
/// </summary>
public sealed partial class PushService : IAsyncDisposable
{
    private readonly Func<ResourceSet> _resources;
    private readonly ChangeFeed? _changes;
    private readonly SnapshotTranslator _translate;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly List<ProxyConnection> _connections = [];
    private readonly Dictionary<string, ProxyConnection> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KeyState> _keys = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _instance = Guid.NewGuid().ToString("N")[..8];
    private Task _loop = Task.CompletedTask;
    private long _nonce;
    private int _disposed;

    public PushService(ResourceStore store, SnapshotTranslator translate, TimeProvider time, ILogger logger)
        : this(() => store.Current, store.Changes, translate, time, logger)
    {
    }

    internal PushService(Func<ResourceSet> resources, ChangeFeed? changes, SnapshotTranslator translate, TimeProvider time, ILogger logger)
    {
        _resources = resources;
        _changes = changes;
        _translate = translate;
        _time = time;
        _logger = logger;
        Debouncer = new Debouncer(time);
    }

    /// <summary>The real translation: Istio's semantics with the stored mesh config.</summary>
    public static ProxyConfig Translate(ResourceSet resources, ProxyNode node, string version) =>
        Translator.Translate(resources, Translator.MeshSettingsFrom(resources), node, version);

    internal Debouncer Debouncer { get; }

    /// <summary>
    /// How many snapshots are written to proxies at once. Each write holds the proxy's copy of the snapshot and its
    /// serialized message in the transport's buffers (megabytes each at scale); proxies are slower to read a snapshot
    /// than the control plane is to write it, so writing a few at a time costs no time and keeps that memory to a few
    /// copies while proxies read. A write that takes longer than <see cref="SendSlotHold"/> (a proxy not reading)
    /// gives its slot up and goes on holding its copy, so each stalled proxy still holds one.
    /// </summary>
    internal SemaphoreSlim SendSlots { get; } = new(MaxConcurrentSends, MaxConcurrentSends);

    internal const int MaxConcurrentSends = 4;

    internal static readonly TimeSpan SendSlotHold = TimeSpan.FromMilliseconds(500);

    /// <summary>The clock the service waits with (a fake one in tests).</summary>
    internal TimeProvider Time => _time;

    /// <summary>Cancelled when the service stops: open streams end with it.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>Starts following the store (a no-op for a service built without a change feed).</summary>
    public void Start()
    {
        if (_changes is null)
        {
            return;
        }

        _loop = Task.WhenAll(
            Task.Run(() => WatchAsync(_changes, _stop.Token)),
            Task.Run(() => Debouncer.RunAsync(_ => { PushAll(); return Task.CompletedTask; }, _stop.Token)));
    }

    /// <summary>A proxy opened its stream: it is tracked and gets the current snapshot right away.</summary>
    /// <param name="acceptsDelta">The proxy applies deltas: a change it can take as one is sent as one.</param>
    public ProxyConnection Connect(ProxyNode node, int adminPort, string? meshgateVersion, bool acceptsDelta = false)
    {
        var connection = new ProxyConnection(node, adminPort, meshgateVersion, _time, acceptsDelta);
        lock (_lock)
        {
            _connections.Add(connection);
            _byName[node.Name + "." + node.Namespace] = connection;
            Log.Connected(_logger, node.Name, node.Namespace, node.Id, node.Key);
            var resources = _resources();
            PushTo(KeyOf(resources, node), [connection], resources);
        }

        return connection;
    }

    /// <summary>
    /// The proxy refused a delta (it may run another version than the control plane thinks): it is offered the
    /// newest snapshot of its key whole, which it can check and apply on its own.
    /// </summary>
    public void OfferWhole(ProxyConnection connection)
    {
        lock (_lock)
        {
            if (connection.OfferedKey is { } key && _keys.TryGetValue(key, out var state))
            {
                connection.Offer(key, new PushedSnapshot(key, state.Version, NextNonce(), state.Json, connection.Node.Id));
            }
        }
    }

    /// <summary>The proxy's stream closed; its status stays (disconnected) until it, or another of the same name, connects.</summary>
    public void Disconnect(ProxyConnection connection)
    {
        lock (_lock)
        {
            _connections.Remove(connection);
            connection.Closed();
            Log.Disconnected(_logger, connection.Node.Name, connection.Node.Namespace);
        }
    }

    /// <summary>Every proxy seen since this control plane started, newest connection per name, sorted by namespace then name.</summary>
    public IReadOnlyList<SyncStatus> Statuses()
    {
        lock (_lock)
        {
            return [.. _byName.Values.Select(WithRevision).OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal)];
        }
    }

    private SyncStatus WithRevision(ProxyConnection connection)
    {
        var status = connection.Status;
        return connection.OfferedVersion is { } offered && status.AckedVersion == offered
            && connection.OfferedKey is { } key && connection.AckedKey == key && _keys.TryGetValue(key, out var state) && state.Version == offered
            ? status with { SyncedRevision = state.Revision }
            : status;
    }

    /// <summary>
    /// True when every connected proxy runs what store revision <paramref name="revision"/> translates to: its key was
    /// translated at that revision or later, and it acknowledged the version it was offered. A refused version
    /// (NACK) never counts as synced. The key is the one the proxy was last served under: when a change moves a proxy
    /// to another key, it is not synced until the push after that change has offered it the new key's snapshot.
    /// </summary>
    public bool IsSynced(long revision)
    {
        lock (_lock)
        {
            foreach (var connection in _connections)
            {
                if (connection.OfferedKey is not { } key || !_keys.TryGetValue(key, out var state) || state.Revision < revision)
                {
                    return false;
                }

                // It must have been offered the key's current version (a proxy that connected later may have had the
                // key translated afresh, before the push reached this one) and have acknowledged it.
                // Versions are counted per key, so the acknowledgement must be of this key's snapshot too.
                if (connection.OfferedVersion != state.Version || connection.Status.AckedVersion != connection.OfferedVersion || connection.AckedKey != key)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>One push: every key translated once from the newest resources, every proxy that needs it offered the result.</summary>
    internal void PushAll()
    {
        lock (_lock)
        {
            var resources = _resources();
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var group in _connections.GroupBy(c => KeyOf(resources, c.Node), StringComparer.Ordinal))
            {
                used.Add(group.Key);
                PushTo(group.Key, [.. group], resources);
            }

            // Keys nobody uses any more are forgotten, so a returning proxy is translated afresh.
            foreach (var key in _keys.Keys.Where(k => !used.Contains(k)).ToList())
            {
                _keys.Remove(key);
            }
        }
    }

    /// <summary>
    /// The node's effective key (<see cref="Translator.KeyFor"/>); its full key if the configuration cannot be read
    /// for it, so that the failure is the translation's, logged and survived there, as for any other.
    /// </summary>
    private static string KeyOf(ResourceSet resources, ProxyNode node)
    {
        try
        {
            return Translator.KeyFor(resources, node);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return node.Key;
        }
    }

    /// <summary>Offers <paramref name="key"/>'s snapshot to each of <paramref name="connections"/> (all of that key) that was not offered it yet. Under the lock.</summary>
    private void PushTo(string key, IReadOnlyList<ProxyConnection> connections, ResourceSet resources)
    {
        if (SnapshotFor(key, connections[0].Node, resources) is not { } state)
        {
            return;
        }

        foreach (var connection in connections)
        {
            // Versions are per key: one offered under another key says nothing about this one.
            if (connection.OfferedKey == key && connection.OfferedVersion == state.Version)
            {
                continue;
            }

            // The snapshot is per key, serialized once; only the node id in it is the proxy's own, spliced in when sent.
            connection.Offer(key, new PushedSnapshot(key, state.Version, NextNonce(), state.Json, connection.Node.Id, state.Delta));
        }
    }

    /// <summary>The snapshot of <paramref name="key"/> at this revision, translated for <paramref name="node"/> (any node of the key).</summary>
    private KeyState? SnapshotFor(string key, ProxyNode node, ResourceSet resources)
    {
        _keys.TryGetValue(key, out var state);
        if (state is not null && state.Revision == resources.Revision)
        {
            return state;
        }

        var started = Stopwatch.GetTimestamp();
        long translatedAt;
        var counter = (state?.Counter ?? 0) + 1;
        var version = string.Create(CultureInfo.InvariantCulture, $"{resources.Revision}-{counter}");
        ProxyConfig config;
        SnapshotJson json;
        SnapshotIndex index;
        try
        {
            config = _translate(resources, node, version);
            translatedAt = Stopwatch.GetTimestamp();
            // Unchanged objects come back as the previous snapshot's instances: validation then checks only the rest.
            (config, json, index) = SnapshotComposer.Compose(config, state is null ? null : new PreviousSnapshot(state.Config, state.Index));
        }
        catch (Exception e)
        {
            Log.TranslationFailed(_logger, key, resources.Revision, e);
            return state;
        }

        if (state is not null && state.Index.SameContent(index))
        {
            state = state with { Revision = resources.Revision };
            _keys[key] = state;
            Log.Unchanged(_logger, key, state.Version, Milliseconds(started, translatedAt), Milliseconds(translatedAt, Stopwatch.GetTimestamp()));
            return state;
        }

        var serializedAt = Stopwatch.GetTimestamp();
        var errors = ProxyConfigValidator.Validate(config, state?.Config);
        if (errors.Count > 0)
        {
            // Never publish an inconsistent snapshot: proxies keep the last good one.
            Log.Invalid(_logger, key, version, errors.Count, errors[0]);
            return state;
        }

        var validatedAt = Stopwatch.GetTimestamp();
        // A delta that says no less than the whole snapshot is not worth a second form.
        SnapshotDelta? delta = null;
        try
        {
            if (state is not null && SnapshotIndex.Diff(state.Index, state.Version, index, version) is { } bytes && bytes.Length < json.Length)
            {
                delta = new SnapshotDelta(state.Version, bytes);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Proxies then get the whole snapshot, which needs no delta.
            Log.DeltaFailed(_logger, key, version, e);
        }

        state = new KeyState(resources.Revision, counter, version, config, json, index, delta);
        _keys[key] = state;
        var done = Stopwatch.GetTimestamp();
        Log.Translated(
            _logger, key, version, config.Listeners.Count, config.Clusters.Count, Milliseconds(started, translatedAt),
            Milliseconds(serializedAt, validatedAt), Milliseconds(translatedAt, serializedAt), json.Length / 1024,
            delta is null ? "" : $", delta on {delta.BaseVersion} {Math.Max(1, delta.Bytes.Length / 1024)} KiB in {Milliseconds(validatedAt, done)} ms");
        return state;
    }

    /// <summary>A nonce no other response of this control plane carries. Under the lock.</summary>
    private string NextNonce() => $"{_instance}-{++_nonce}";

    private static long Milliseconds(long from, long to) => (long)Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    private async Task WatchAsync(ChangeFeed changes, CancellationToken cancellationToken)
    {
        var after = _resources().Revision;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var change in changes.WatchAsync(after, cancellationToken).ConfigureAwait(false))
                {
                    after = change.Revision;
                    Debouncer.Signal();
                }
            }
            catch (StoreException)
            {
                // Fell behind the feed: the push reads the whole current set anyway.
                after = _resources().Revision;
                Debouncer.Signal();
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>
    /// One key's newest snapshot: the translation, its serialized bytes, where each object is in them (what the next
    /// translation is compared with, and what lends its unchanged objects' bytes to the next one's serialization), and
    /// the delta from the version before, for proxies that run that one.
    /// </summary>
    private sealed record KeyState(long Revision, int Counter, string Version, ProxyConfig Config, SnapshotJson Json, SnapshotIndex Index, SnapshotDelta? Delta);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "proxy {Name}.{Namespace} connected ({Id}, key {Key})")]
        public static partial void Connected(ILogger logger, string name, string @namespace, string id, string key);

        [LoggerMessage(2, LogLevel.Information, "proxy {Name}.{Namespace} disconnected")]
        public static partial void Disconnected(ILogger logger, string name, string @namespace);

        [LoggerMessage(3, LogLevel.Error, "translation for {Key} at revision {Revision} failed; proxies keep their snapshot")]
        public static partial void TranslationFailed(ILogger logger, string key, long revision, Exception exception);

        [LoggerMessage(4, LogLevel.Error, "snapshot {Version} for {Key} is inconsistent ({Count} errors, first: {Error}); not pushed")]
        public static partial void Invalid(ILogger logger, string key, string version, int count, string error);

        [LoggerMessage(5, LogLevel.Information, "translated {Key} → {Version} ({Listeners} listeners, {Clusters} clusters) in {Milliseconds} ms (validated in {ValidateMilliseconds} ms, serialized and compared in {SerializeMilliseconds} ms, {Kilobytes} KiB{Delta})")]
        public static partial void Translated(ILogger logger, string key, string version, int listeners, int clusters, long milliseconds, long validateMilliseconds, long serializeMilliseconds, int kilobytes, string delta);

        [LoggerMessage(7, LogLevel.Error, "no delta for {Key} → {Version}; proxies get the whole snapshot")]
        public static partial void DeltaFailed(ILogger logger, string key, string version, Exception exception);

        [LoggerMessage(6, LogLevel.Debug, "translated {Key} again: unchanged, still {Version} in {Milliseconds} ms (compared in {CompareMilliseconds} ms)")]
        public static partial void Unchanged(ILogger logger, string key, string version, long milliseconds, long compareMilliseconds);
    }
}
