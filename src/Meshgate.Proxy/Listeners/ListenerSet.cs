using System.Net;
using System.Net.Sockets;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy.Upstream;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// The open listeners, one <see cref="ListenerHost"/> each, changed by diff like Envoy's listener manager: a listener
/// whose address, port and protocol are unchanged keeps its server and connections; an added one gets a new server;
/// a removed or rebound one stops accepting, drains, and closes. Used under the proxy's update lock only.
/// </summary>
internal sealed partial class ListenerSet(ListenerServices services, LoopGuard loops, ILogger logger)
{
    private ListenerHost[] _hosts = [];

    /// <summary>The open listeners (a stable copy; safe to read from any thread).</summary>
    public IReadOnlyList<ListenerHost> Hosts => Volatile.Read(ref _hosts);

    /// <summary>Opens every listener of <paramref name="listeners"/>, or none: on a failure the ones opened are closed again.</summary>
    public async Task StartAsync(IEnumerable<Listener> listeners, CancellationToken cancellationToken)
    {
        var started = new List<ListenerHost>();
        foreach (var listener in listeners)
        {
            if (!listener.BindToPort)
            {
                continue; // virtual: reached through the capture listener, nothing to bind
            }

            var host = new ListenerHost(listener, services);
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await StopAllAsync(started, TimeSpan.Zero).ConfigureAwait(false);
                throw;
            }

            started.Add(host);
            Log.Listening(logger, listener.Name, listener.Protocol.ToString().ToUpperInvariant(), Describe(host));
        }

        Publish([.. started]);
    }

    /// <summary>
    /// First half of a change to <paramref name="next"/>: opens the added listeners that bind somewhere free, so a
    /// failure (the address is taken) can still be refused with nothing changed. Listeners that reuse the address of
    /// one being removed are opened by <see cref="CompleteAsync"/> once it has closed.
    /// </summary>
    /// <returns>The change, or the reason it cannot be made (nothing changed then).</returns>
    public async Task<(ListenerChange? Change, string? Error)> PrepareAsync(IReadOnlyList<Listener> next, CancellationToken cancellationToken)
    {
        var current = Hosts;
        var byName = current.ToDictionary(h => h.Listener.Name, StringComparer.Ordinal);
        var kept = new List<ListenerHost>();
        var added = new List<Listener>();
        foreach (var listener in next)
        {
            if (!listener.BindToPort)
            {
                continue;
            }

            if (byName.Remove(listener.Name, out var host) && host.CanServe(listener))
            {
                kept.Add(host);
            }
            else
            {
                added.Add(listener);
            }
        }

        var retiring = current.Where(h => !kept.Contains(h)).ToList();
        var opened = new List<ListenerHost>();
        var deferred = new List<Listener>();
        foreach (var listener in added)
        {
            if (retiring.Any(h => h.Listener.Port == listener.Port && (h.Listener.Address == listener.Address || IsWildcard(h.Listener.Address) || IsWildcard(listener.Address))))
            {
                deferred.Add(listener);
                continue;
            }

            var host = new ListenerHost(listener, services);
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // Nothing half-done stays open, whatever the failure (a cancelled update too).
                await StopAllAsync(opened, TimeSpan.Zero).ConfigureAwait(false);
                if (e is IOException or SocketException or InvalidOperationException)
                {
                    return (null, $"listener \"{listener.Name}\": cannot listen on {listener.Endpoint}: {Why(e)}");
                }

                throw;
            }

            opened.Add(host);
        }

        return (new ListenerChange(kept, opened, retiring, deferred), null);
    }

    /// <summary>
    /// Second half, after the new snapshot is in place: publishes the new set, drains and closes the retired
    /// listeners (for at most <paramref name="drainTime"/>), then opens the deferred ones.
    /// </summary>
    /// <returns>Listeners that could not be opened (the rest of the change stands).</returns>
    public async Task<IReadOnlyList<string>> CompleteAsync(ListenerChange change, TimeSpan drainTime, CancellationToken cancellationToken)
    {
        Publish([.. change.Kept, .. change.Opened]);
        foreach (var host in change.Opened)
        {
            Log.Listening(logger, host.Listener.Name, host.Listener.Protocol.ToString().ToUpperInvariant(), Describe(host));
        }

        foreach (var host in change.Retiring)
        {
            Log.Draining(logger, host.Listener.Name, Describe(host));
        }

        await StopAllAsync(change.Retiring, drainTime).ConfigureAwait(false);
        var errors = new List<string>();
        var late = new List<ListenerHost>();
        foreach (var listener in change.Deferred)
        {
            var host = new ListenerHost(listener, services);
            try
            {
                await host.StartAsync(cancellationToken).ConfigureAwait(false);
                late.Add(host);
                Log.Listening(logger, listener.Name, listener.Protocol.ToString().ToUpperInvariant(), Describe(host));
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidOperationException)
            {
                errors.Add($"listener \"{listener.Name}\": cannot listen on {listener.Endpoint}: {Why(e)}");
            }
        }

        if (late.Count > 0)
        {
            Publish([.. Hosts, .. late]);
        }

        return errors;
    }

    /// <summary>Closes every listener, letting connections finish for at most <paramref name="drainTime"/>.</summary>
    public async Task StopAsync(TimeSpan drainTime)
    {
        var hosts = Interlocked.Exchange(ref _hosts, []);
        loops.Update([]);
        await StopAllAsync(hosts, drainTime).ConfigureAwait(false);
    }

    /// <summary>Makes <paramref name="hosts"/> the open set, and tells the loop guard what is bound now.</summary>
    private void Publish(ListenerHost[] hosts)
    {
        Volatile.Write(ref _hosts, hosts);
        var bound = new EndPoint?[hosts.Length];
        for (var i = 0; i < hosts.Length; i++)
        {
            bound[i] = hosts[i].BoundEndPoint;
        }

        loops.Update(bound);
    }

    private static async Task StopAllAsync(IReadOnlyCollection<ListenerHost> hosts, TimeSpan drainTime)
    {
        using var drain = new CancellationTokenSource(drainTime);
        await Task.WhenAll(hosts.Select(h => h.StopAsync(drain.Token))).ConfigureAwait(false);
    }

    private static bool IsWildcard(string address) => address is "0.0.0.0" or "::";

    private static string Describe(ListenerHost host) => host.BoundEndPoint?.ToString() ?? host.Listener.Endpoint;

    private static string Why(Exception e) =>
        e.InnerException is AddressInUseException || (e as SocketException)?.SocketErrorCode == SocketError.AddressAlreadyInUse
            ? "address already in use"
            : e.Message;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "listener {Name} ({Protocol}) listening on {Endpoint}")]
        public static partial void Listening(ILogger logger, string name, string protocol, string endpoint);

        [LoggerMessage(2, LogLevel.Information, "listener {Name} on {Endpoint} closing: draining its connections")]
        public static partial void Draining(ILogger logger, string name, string endpoint);
    }
}

/// <summary>A listener change between its two halves (<see cref="ListenerSet.PrepareAsync"/>, <see cref="ListenerSet.CompleteAsync"/>).</summary>
internal sealed record ListenerChange(
    IReadOnlyList<ListenerHost> Kept,
    IReadOnlyList<ListenerHost> Opened,
    IReadOnlyList<ListenerHost> Retiring,
    IReadOnlyList<Listener> Deferred)
{
    /// <summary>Keeps the retiring listeners' connections on <paramref name="last"/>; call before swapping it out.</summary>
    public void Pin(ProxySnapshot last)
    {
        foreach (var host in Retiring)
        {
            host.Context.Retire(last);
        }
    }
}
