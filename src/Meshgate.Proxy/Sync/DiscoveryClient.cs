using System.Diagnostics;
using System.Reflection;
using Grpc.Core;
using Grpc.Net.Client;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;
using Meshgate.Discovery.V1;
using Microsoft.Extensions.Logging;
using Node = Meshgate.Discovery.V1.Node;

namespace Meshgate.Proxy.Sync;

/// <summary>
/// The proxy's side of the discovery stream (DESIGN.md "The wire"; pilot-agent's xDS proxy): announces the node, then
/// applies each snapshot the control plane sends, whole or not at all, and answers ACK (version and nonce) or NACK
/// (the error, keeping the last good snapshot). The listeners open with the first snapshot, so <c>/healthz/ready</c>
/// answers 200 only from then on. When the control plane is away the proxy keeps serving what it has and reconnects
/// with capped, jittered backoff (100 ms doubling to 5 s); the control plane then resends the newest snapshot.
/// </summary>
public sealed partial class DiscoveryClient : IAsyncDisposable
{
    public static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(100);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(5);

    private static readonly string MeshgateVersion =
        typeof(DiscoveryClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    private readonly ProxyServer _proxy;
    private readonly Uri _address;
    private readonly ProxyNode _node;
    private readonly int _adminPort;
    private readonly ProxyConfig _bootstrap;
    private readonly bool _acceptsDelta;
    private readonly ILogger _logger;
    private readonly GrpcChannel _channel;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private string _applied = "";
    private bool _listening;

    private readonly bool _ownsChannel;

    private DiscoveryClient(ProxyServer proxy, Uri address, ProxyNode node, int adminPort, bool acceptsDelta, GrpcChannel? channel)
    {
        _proxy = proxy;
        _acceptsDelta = acceptsDelta;
        _address = address;
        _node = node;
        _adminPort = adminPort;
        _bootstrap = proxy.Snapshots.Current.Config;
        _logger = proxy.LoggerFactory.CreateLogger("meshgate.proxy.discovery");
        _ownsChannel = channel is null;
        _channel = channel ?? ControlPlaneChannel.Create(address, rootBundle: null);
    }

    /// <summary>The configuration a proxy runs before its first snapshot: nothing listens.</summary>
    public static ProxyConfig Bootstrap { get; } = new() { Version = "bootstrap" };

    /// <summary>The version last applied; empty before the first snapshot.</summary>
    public string AppliedVersion => Volatile.Read(ref _applied);

    /// <summary>
    /// Starts following <paramref name="address"/> (e.g. <c>http://127.0.0.1:15010</c>) for <paramref name="proxy"/>,
    /// which was created with <see cref="Bootstrap"/> and not started.
    /// </summary>
    /// <param name="adminPort">The port the admin pages are bound to, for <c>meshgate proxy-config</c>.</param>
    /// <param name="acceptsDelta">Take changes as deltas (<see cref="ProxyConfigDelta"/>); false asks for every snapshot whole.</param>
    /// <param name="channel">The channel to <paramref name="address"/> (<see cref="ControlPlaneChannel"/>, TLS); null makes a plaintext one.</param>
    public static DiscoveryClient Start(ProxyServer proxy, Uri address, ProxyNode node, int adminPort, bool acceptsDelta = true, GrpcChannel? channel = null)
    {
        ArgumentNullException.ThrowIfNull(proxy);
        var client = new DiscoveryClient(proxy, address, node, adminPort, acceptsDelta, channel);
        client._loop = Task.Run(client.RunAsync);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (_ownsChannel)
        {
            _channel.Dispose();
        }

        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        var cancellationToken = _stop.Token;
        var backoff = InitialBackoff;
        var quiet = false; // one warning per outage, not one per attempt
        void Report(string reason)
        {
            if (!quiet)
            {
                if (AppliedVersion.Length == 0)
                {
                    Log.Unreachable(_logger, _address, reason);
                }
                else
                {
                    Log.Disconnected(_logger, _address, reason, AppliedVersion);
                }

                quiet = true;
            }
        }

        var client = new Discovery.V1.Discovery.DiscoveryClient(_channel);
        while (!cancellationToken.IsCancellationRequested)
        {
            var received = false;
            try
            {
                using var call = client.Stream(cancellationToken: cancellationToken);
                await call.RequestStream.WriteAsync(new DiscoveryRequest { Node = NodeMessage(), VersionInfo = AppliedVersion }, cancellationToken).ConfigureAwait(false);
                await foreach (var response in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (!received)
                    {
                        Log.Connected(_logger, _address, _node.Name, _node.Namespace);
                        quiet = false;
                    }

                    received = true;
                    backoff = InitialBackoff;
                    var answer = await ApplyAsync(response, cancellationToken).ConfigureAwait(false);
                    await call.RequestStream.WriteAsync(answer, cancellationToken).ConfigureAwait(false);
                }

                Report("the control plane closed the stream");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (RpcException e)
            {
                Report(Describe(e));
            }
            catch (Exception e) when (e is IOException or HttpRequestException or InvalidOperationException)
            {
                Report(e.Message);
            }

            if (!received)
            {
                backoff = backoff * 2 > MaxBackoff ? MaxBackoff : backoff * 2;
            }

            // Full jitter in [backoff/2, backoff], so proxies restarted together do not reconnect in lockstep.
            var delay = backoff / 2 + backoff / 2 * Random.Shared.NextDouble();
            try
            {
                await Task.Delay(delay, _proxy.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Applies one snapshot, whole or as a delta, and says what to answer: an ACK, or a NACK with the reason and the version that stays.</summary>
    private async Task<DiscoveryRequest> ApplyAsync(DiscoveryResponse response, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var cpu = Environment.CpuUsage.TotalTime;
        var paused = GC.GetTotalPauseDuration();
        var delta = !response.Delta.IsEmpty;
        ProxyConfig config;
        if (delta)
        {
            var made = Delta(response);
            if (made.Config is not { } patched)
            {
                _proxy.Metrics.UpdateRejected();
                return Nack(response, made.Errors);
            }

            config = patched;
        }
        else
        {
            var loaded = ProxyConfigLoader.LoadJson(response.Snapshot.Memory, $"snapshot {response.VersionInfo}");
            if (loaded.Config is not { } whole)
            {
                _proxy.Metrics.UpdateRejected();
                return Nack(response, loaded.Errors);
            }

            config = whole;
        }

        var read = Stopwatch.GetElapsedTime(started);
        ProxyUpdateResult result;
        if (_listening)
        {
            result = await _proxy.UpdateAsync(config, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Before the first snapshot nothing listens: swap it in, then open its listeners, all or none.
            result = await _proxy.UpdateAsync(config, cancellationToken).ConfigureAwait(false);
            if (result.Applied)
            {
                try
                {
                    await _proxy.StartAsync(cancellationToken).ConfigureAwait(false);
                    _listening = true;
                }
                catch (IOException e)
                {
                    await _proxy.UpdateAsync(_bootstrap, cancellationToken).ConfigureAwait(false);
                    var why = e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException ? "address already in use" : e.Message;
                    result = ProxyUpdateResult.Refused([$"cannot open the listeners: {why}"]);
                }
            }
        }

        if (!result.Applied)
        {
            return Nack(response, result.Errors);
        }

        Volatile.Write(ref _applied, config.Version);
        var milliseconds = (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var cpuMilliseconds = (long)(Environment.CpuUsage.TotalTime - cpu).TotalMilliseconds; // every thread of the process, this work's and others'
        var gcMilliseconds = (long)(GC.GetTotalPauseDuration() - paused).TotalMilliseconds;
        if (delta)
        {
            Log.AppliedDelta(_logger, config.Version, response.BaseVersion, config.Listeners.Count, config.Clusters.Count, milliseconds, (long)read.TotalMilliseconds, Math.Max(1, response.Delta.Length / 1024), cpuMilliseconds, gcMilliseconds);
        }
        else
        {
            Log.Applied(_logger, config.Version, config.Listeners.Count, config.Clusters.Count, milliseconds, (long)read.TotalMilliseconds, response.Snapshot.Length / 1024, cpuMilliseconds, gcMilliseconds);
        }
        foreach (var error in result.Errors)
        {
            Log.AppliedWithErrors(_logger, config.Version, error);
        }

        return new DiscoveryRequest { VersionInfo = config.Version, ResponseNonce = response.Nonce };
    }

    /// <summary>
    /// The snapshot a delta makes of the one running, checked for consistency (only what it changes), or why it
    /// makes none, e.g. it applies to another version than the one running.
    /// </summary>
    private DeltaResult Delta(DiscoveryResponse response)
    {
        if (!_listening)
        {
            return new DeltaResult(null, [$"the delta for {response.VersionInfo} applies to version {response.BaseVersion}, but this proxy runs none yet"]);
        }

        // The delta itself says which version it applies to; ProxyConfigDelta refuses it for any other.
        var current = _proxy.Snapshots.Current.Config;
        var made = ProxyConfigDelta.Apply(current, response.Delta.Span);
        if (made.Config is not { } config)
        {
            return made;
        }

        if (config.Version != response.VersionInfo)
        {
            return new DeltaResult(null, [$"the delta says version {config.Version}, its response {response.VersionInfo}"]);
        }

        var invalid = ProxyConfigValidator.Validate(config, current);
        return invalid.Count > 0 ? new DeltaResult(null, invalid) : made;
    }

    private DiscoveryRequest Nack(DiscoveryResponse response, IReadOnlyList<string> errors)
    {
        var detail = string.Join("; ", errors.Take(5)) + (errors.Count > 5 ? $"; and {errors.Count - 5} more" : "");
        var current = AppliedVersion.Length == 0 ? "none" : AppliedVersion;
        Log.Refused(_logger, response.VersionInfo, current, detail);
        return new DiscoveryRequest { VersionInfo = AppliedVersion, ResponseNonce = response.Nonce, ErrorDetail = detail };
    }

    private Node NodeMessage()
    {
        var node = new Node
        {
            Role = _node.Role == ProxyRole.Gateway ? "gateway" : "sidecar",
            Name = _node.Name,
            Namespace = _node.Namespace,
            ServiceAccount = _node.ServiceAccount,
            Capture = _node.Capture == CaptureMode.Transparent ? "transparent" : "explicit",
            AdminPort = _adminPort,
            MeshgateVersion = MeshgateVersion,
            AcceptsDelta = _acceptsDelta,
            HasWorkloadCertificate = _proxy.Snapshots.Current.Workload is not null,
        };
        node.Labels.Add(_node.Labels);
        node.Addresses.AddRange(_node.Addresses);
        return node;
    }

    private static string Describe(RpcException e) => e.StatusCode switch
    {
        StatusCode.Unavailable => $"unavailable ({e.Status.Detail})",
        _ => $"{e.StatusCode}: {e.Status.Detail}",
    };

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "discovery: connected to {Address} as {Name}.{Namespace}")]
        public static partial void Connected(ILogger logger, Uri address, string name, string @namespace);

        [LoggerMessage(2, LogLevel.Warning, "discovery: disconnected from {Address}: {Reason}; serving version {Version} meanwhile, reconnecting")]
        public static partial void Disconnected(ILogger logger, Uri address, string reason, string version);

        [LoggerMessage(3, LogLevel.Information, "discovery: applied version {Version} ({Listeners} listeners, {Clusters} clusters) in {Milliseconds} ms (read {Kilobytes} KiB in {ReadMilliseconds} ms; process CPU {CpuMilliseconds} ms, GC pauses {GcMilliseconds} ms)")]
        public static partial void Applied(ILogger logger, string version, int listeners, int clusters, long milliseconds, long readMilliseconds, int kilobytes, long cpuMilliseconds, long gcMilliseconds);

        [LoggerMessage(7, LogLevel.Information, "discovery: applied version {Version} as a delta on {BaseVersion} ({Listeners} listeners, {Clusters} clusters) in {Milliseconds} ms (read and checked {Kilobytes} KiB in {ReadMilliseconds} ms; process CPU {CpuMilliseconds} ms, GC pauses {GcMilliseconds} ms)")]
        public static partial void AppliedDelta(ILogger logger, string version, string baseVersion, int listeners, int clusters, long milliseconds, long readMilliseconds, int kilobytes, long cpuMilliseconds, long gcMilliseconds);

        [LoggerMessage(4, LogLevel.Warning, "discovery: NACK version {Version}, keeping {Current}: {Error}")]
        public static partial void Refused(ILogger logger, string version, string current, string error);

        [LoggerMessage(6, LogLevel.Warning, "discovery: no configuration from {Address} yet: {Reason}; retrying (not ready until the first snapshot)")]
        public static partial void Unreachable(ILogger logger, Uri address, string reason);

        [LoggerMessage(5, LogLevel.Warning, "discovery: version {Version} applied, but {Error}")]
        public static partial void AppliedWithErrors(ILogger logger, string version, string error);
    }
}
