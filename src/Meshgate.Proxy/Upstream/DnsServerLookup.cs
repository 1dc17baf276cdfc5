using System.Net;
using DnsClient;
using DnsClient.Protocol;

namespace Meshgate.Proxy.Upstream;

/// <summary>
/// Lookups with DNS servers of the proxy's own (<c>--dns-server</c>, <c>MESHGATE_DNS_SERVERS</c>), through
/// DnsClient: /etc/hosts first, as the system resolver would, then A and AAAA queries in parallel, IPv4
/// preferred. The answer's TTL is the smallest of the records used; DnsClient's own cache is off, so
/// <see cref="EndpointResolver"/> alone decides when to ask again.
/// </summary>
public sealed class DnsServerLookup : INameLookup
{
    /// <summary>How long one query waits for a server by default; with one retry, a dead server costs twice this.</summary>
    public static readonly TimeSpan DefaultQueryTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long "no such name" is kept when the response has no SOA to say (RFC 2308 section 5).</summary>
    public static readonly TimeSpan DefaultNegativeTtl = TimeSpan.FromSeconds(5);

    private readonly LookupClient _client;
    private readonly HostsFile _hosts;

    public DnsServerLookup(IReadOnlyList<IPEndPoint> servers, HostsFile? hosts = null, TimeSpan? queryTimeout = null)
    {
        if (servers.Count == 0)
        {
            throw new ArgumentException("at least one DNS server is needed", nameof(servers));
        }

        Servers = servers;
        _hosts = hosts ?? HostsFile.FromEnvironment() ?? new HostsFile(HostsFile.DefaultPath);
        _client = new LookupClient(new LookupClientOptions([.. servers])
        {
            UseCache = false,
            Timeout = queryTimeout ?? DefaultQueryTimeout,
            Retries = 1,
            ThrowDnsErrors = false,
            ContinueOnDnsError = true,
            UseRandomNameServer = false,
            UseTcpFallback = true,
        });
    }

    public IReadOnlyList<IPEndPoint> Servers { get; }

    public string Description => $"{string.Join(", ", Servers)} (after {_hosts.Path})";

    public async Task<LookupResult> LookupAsync(string name, CancellationToken cancellationToken)
    {
        if (_hosts.TryGet(name, out var fromFile))
        {
            return LookupResult.Answer(LookupResult.PreferIPv4(fromFile), HostsFile.Ttl);
        }

        var v4 = QueryAsync(name, QueryType.A, cancellationToken);
        var v6 = QueryAsync(name, QueryType.AAAA, cancellationToken);
        var a = await v4.ConfigureAwait(false);
        var aaaa = await v6.ConfigureAwait(false);

        // IPv4 preferred: AAAA answers are used only when there is no A answer.
        var used = a.Addresses.Length > 0 ? a : aaaa;
        if (used.Addresses.Length > 0)
        {
            return LookupResult.Answer(used.Addresses, used.Ttl);
        }

        if ((a.Error ?? aaaa.Error) is { } error)
        {
            return LookupResult.Failed(error);
        }

        return LookupResult.Answer([], a.Ttl < aaaa.Ttl ? a.Ttl : aaaa.Ttl);
    }

    private async Task<LookupResult> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        try
        {
            response = await _client.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            return LookupResult.Failed(e.Code == DnsResponseCode.ConnectionTimeout ? "timeout" : e.Code.ToString());
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return LookupResult.Failed(e.GetType().Name);
        }

        var code = response.Header.ResponseCode;
        if (code is not (DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain))
        {
            // SERVFAIL, REFUSED and the like say nothing about the name: keep what we knew.
            return LookupResult.Failed(code.ToString());
        }

        var records = response.Answers.OfType<AddressRecord>()
            .Where(r => type == QueryType.A ? r is ARecord : r is AaaaRecord)
            .ToList();
        if (records.Count == 0)
        {
            return LookupResult.Answer([], NegativeTtl(response));
        }

        var ttl = TimeSpan.FromSeconds(records.Min(r => Math.Max(r.TimeToLive, 0)));
        return LookupResult.Answer([.. records.Select(r => r.Address).Distinct()], ttl);
    }

    /// <summary>RFC 2308 section 5: a negative answer lives for the smaller of the SOA's TTL and its MINIMUM.</summary>
    private static TimeSpan NegativeTtl(IDnsQueryResponse response) =>
        response.Authorities.SoaRecords().FirstOrDefault() is { } soa
            ? TimeSpan.FromSeconds(Math.Min(Math.Max(soa.TimeToLive, 0), soa.Minimum))
            : DefaultNegativeTtl;
}
