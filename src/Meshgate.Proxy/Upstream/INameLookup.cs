namespace Meshgate.Proxy.Upstream;

/// <summary>
/// One question to a resolver: the addresses of a host name and how long they may be used.
/// Two implementations: <see cref="SystemLookup"/> (the operating system's resolver) and
/// <see cref="DnsServerLookup"/> (/etc/hosts, then the DNS servers given with <c>--dns-server</c>).
/// </summary>
public interface INameLookup
{
    /// <summary>What the startup log says, e.g. "127.0.0.1:5353 (after /etc/hosts)".</summary>
    string Description { get; }

    /// <summary>Never throws for a resolver's failure: it comes back as <see cref="LookupResult.Failed"/>.</summary>
    Task<LookupResult> LookupAsync(string name, CancellationToken cancellationToken);
}
