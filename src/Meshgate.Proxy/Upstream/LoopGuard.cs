using System.Net;
using System.Net.NetworkInformation;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Knows the proxy's own bound listener addresses, so an upstream that is one of them (a PassthroughCluster target, an
/// ORIGINAL_DST connection that was not redirected, a cluster endpoint pointing back at the proxy) is refused instead of
/// looping until the proxy runs out of sockets. A listener on 0.0.0.0 or :: matches every local address. The addresses
/// are swapped whole when listeners change; checks are lock-free reads of a small array.
/// </summary>
public sealed class LoopGuard
{
    private State _state = new([], []);

    /// <summary>Called whenever the bound listeners change.</summary>
    public void Update(IReadOnlyList<EndPoint?> bound)
    {
        var endpoints = new List<IPEndPoint>();
        var anyWildcard = false;
        foreach (var endpoint in bound)
        {
            if (endpoint is IPEndPoint ip)
            {
                endpoints.Add(new IPEndPoint(Normalize(ip.Address), ip.Port));
                anyWildcard |= IsWildcard(ip.Address);
            }
        }

        Volatile.Write(ref _state, new State([.. endpoints], anyWildcard ? LocalAddresses() : []));
    }

    /// <summary>True when <paramref name="upstream"/> is one of this proxy's own listeners.</summary>
    public bool IsSelf(IPEndPoint upstream)
    {
        var state = Volatile.Read(ref _state);
        var address = Normalize(upstream.Address);
        foreach (var bound in state.Bound)
        {
            if (bound.Port != upstream.Port)
            {
                continue;
            }

            if (bound.Address.Equals(address))
            {
                return true;
            }

            if (IsWildcard(bound.Address) && (IPAddress.IsLoopback(address) || IsLocal(state.Local, address)))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsLocal(IPAddress[] local, IPAddress address)
    {
        foreach (var candidate in local)
        {
            if (candidate.Equals(address))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsWildcard(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPAddress[] LocalAddresses()
    {
        var addresses = new List<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    addresses.Add(Normalize(unicast.Address));
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Loopback is still recognised; other local addresses are not.
        }

        return [.. addresses];
    }

    private sealed record State(IPEndPoint[] Bound, IPAddress[] Local);
}
