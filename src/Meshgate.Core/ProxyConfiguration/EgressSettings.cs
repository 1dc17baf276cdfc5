using System.Text.Json.Serialization;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Egress safety (docs/egress-safety.md), as the mesh config's <c>meshgate.egress</c> section sets it. Absent from a
/// snapshot means the defaults, which are strict: every destination the proxy resolves itself (DNS clusters,
/// PassthroughCluster, CONNECT and absolute-form targets) is refused when its address is loopback, private, link-local
/// or another range that is not the public internet, and a request whose host is not the TLS server name it came in
/// on is refused as domain fronting.
/// </summary>
public sealed record EgressSettings
{
    /// <summary>
    /// Ranges the address guard lets through although their class is refused by default: CIDRs (<c>10.0.0.0/8</c>,
    /// <c>fd00::/8</c>) or single addresses (<c>127.0.0.77</c>, the same as <c>/32</c>). An IPv6 address that embeds an
    /// IPv4 address is let through when either is in a range.
    /// </summary>
    public EquatableArray<string> AllowedCidrs { get; init; }

    /// <summary>Turns the domain fronting checks off (both: SNI against Host, CONNECT target against SNI). Written only when true.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool AllowDomainFronting { get; init; }

    /// <summary>
    /// Host names (exact, or <c>*.suffix</c>) exempt from the domain fronting checks: a pair of names is not compared
    /// when either of them is in this list.
    /// </summary>
    public EquatableArray<string> DomainFrontingExceptions { get; init; }

    /// <summary>True when nothing is set: translation then leaves the field out of the snapshot.</summary>
    public bool IsDefault() => AllowedCidrs.IsEmpty && !AllowDomainFronting && DomainFrontingExceptions.IsEmpty;
}
