namespace Meshgate.Core.Translation;

/// <summary>Istio's host-name helpers: short names qualified by a namespace, wildcard candidates for a name.</summary>
internal static class HostNames
{
    public const string ClusterDomain = "svc.cluster.local";

    /// <summary>
    /// istio/istio <c>ResolveShortnameToFQDN</c>: a name without dots (other than <c>*</c>) is a Kubernetes short name,
    /// <c>reviews</c> in namespace <c>default</c> → <c>reviews.default.svc.cluster.local</c>. Lower-cased (DNS).
    /// </summary>
    public static string Qualify(string host, string ns)
    {
        var lower = host.ToLowerInvariant();
        return lower == "*" || lower.Contains('.') ? lower : $"{lower}.{ns}.{ClusterDomain}";
    }

    /// <summary>The Kubernetes service host <c>name.ns.svc.cluster.local</c>.</summary>
    public static string ServiceHost(string name, string ns) => $"{name}.{ns}.{ClusterDomain}".ToLowerInvariant();

    /// <summary>
    /// The wildcard patterns that could cover <paramref name="host"/>, most specific first:
    /// <c>a.b.c</c> → <c>*.b.c</c>, <c>*.c</c>, <c>*</c>; <c>*.b.c</c> → <c>*.c</c>, <c>*</c>.
    /// </summary>
    public static IEnumerable<string> WildcardCandidates(string host)
    {
        if (host == "*")
        {
            yield break;
        }

        var rest = host.StartsWith("*.", StringComparison.Ordinal) ? host[2..] : host;
        var dot = rest.IndexOf('.');
        while (dot >= 0)
        {
            rest = rest[(dot + 1)..];
            yield return "*." + rest;
            dot = rest.IndexOf('.');
        }

        yield return "*";
    }

    /// <summary>
    /// What two host patterns have in common, as Istio's gateway host matching takes it: the more specific of the two
    /// when one covers the other, else null (<c>*</c> and <c>edition.cnn.com</c> → <c>edition.cnn.com</c>).
    /// </summary>
    public static string? Intersect(string a, string b)
    {
        if (Hosts.HostMatch.Covers(a, b))
        {
            return b;
        }

        return Hosts.HostMatch.Covers(b, a) ? a : null;
    }
}
