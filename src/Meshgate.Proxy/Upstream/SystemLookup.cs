using System.Net;
using System.Net.Sockets;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The operating system's resolver (/etc/hosts, /etc/resolv.conf, nsswitch), what the proxy uses when no
/// <c>--dns-server</c> is given. It does not report TTLs, so answers are kept for <see cref="Ttl"/>.
/// </summary>
public sealed class SystemLookup : INameLookup
{
    /// <summary>How long an answer is reused; the system resolver does not tell us the record's TTL.</summary>
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(5);

    private readonly HostsFile? _override;

    /// <summary>The system resolver, after the hosts file named by <see cref="HostsFile.OverrideVariable"/> if set.</summary>
    public SystemLookup()
        : this(HostsFile.FromEnvironment())
    {
    }

    public SystemLookup(HostsFile? hostsOverride) => _override = hostsOverride;

    public string Description => _override is null
        ? "the system resolver (/etc/hosts, /etc/resolv.conf)"
        : $"{_override.Path}, then the system resolver (/etc/hosts, /etc/resolv.conf)";

    public async Task<LookupResult> LookupAsync(string name, CancellationToken cancellationToken)
    {
        if (_override is not null && _override.TryGet(name, out var fromFile))
        {
            return LookupResult.Answer(LookupResult.PreferIPv4(fromFile), HostsFile.Ttl);
        }

        try
        {
            var addresses = await Dns.GetHostAddressesAsync(name, cancellationToken).ConfigureAwait(false);
            return LookupResult.Answer(LookupResult.PreferIPv4(addresses), Ttl);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData)
        {
            // The name does not exist or has no address: an answer, not a failure (RFC 2308).
            return LookupResult.Answer([], Ttl);
        }
        catch (SocketException e)
        {
            return LookupResult.Failed(e.SocketErrorCode.ToString());
        }
    }
}
