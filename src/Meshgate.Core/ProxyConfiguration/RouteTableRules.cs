using System.Globalization;

using Meshgate.Core.Routing;
using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A route table can be compiled and every route leads somewhere: unique virtual hosts and domains (Envoy refuses a
/// domain twice in one table), valid matches and regexes, exactly one action, and clusters that exist.
/// </summary>
internal static class RouteTableRules
{
    private static readonly int[] RedirectStatuses = [301, 302, 303, 307, 308];

    /// <summary>Checks every virtual host; returns where each virtual host name and domain is, for the next snapshot's check.</summary>
    public static HostIndex Check(RouteTable table, ConsistencyScope scope, References references) =>
        Check(table, scope, references, null, null, clustersRemoved: false);

    /// <summary>
    /// As <see cref="Check(RouteTable, ConsistencyScope, References)"/>, for a table made from <paramref name="previous"/>
    /// (the table of the same name in a consistent snapshot, indexed by <paramref name="previousIndex"/>) by replacing,
    /// adding or removing virtual hosts. A virtual host that is the same instance as there passed its own rules, so only
    /// what other objects can break is checked again: its name and domains against the other virtual hosts, and (when
    /// <paramref name="clustersRemoved"/>) the clusters its routes forward to.
    /// </summary>
    public static HostIndex Check(RouteTable table, ConsistencyScope scope, References references, RouteTable? previous, HostIndex? previousIndex, bool clustersRemoved)
    {
        if (previous is not null && previousIndex is not null && TryFewChanged(table, scope, references, previous, previousIndex, clustersRemoved) is { } index)
        {
            return index;
        }

        var hostNames = new Dictionary<string, int>(table.VirtualHosts.Count, StringComparer.Ordinal);
        var domains = new Dictionary<string, int>(table.VirtualHosts.Count, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < table.VirtualHosts.Count; i++)
        {
            var host = table.VirtualHosts[i];
            var path = new Path(i);
            if (previous is not null && previousIndex is not null && !string.IsNullOrEmpty(host.Name)
                && ReferenceEquals(previousIndex.Find(host.Name), host))
            {
                // Same bookkeeping as below; its name is not empty and its domains are valid (they were checked).
                if (!hostNames.TryAdd(host.Name, i))
                {
                    DuplicateHost(scope, path, hostNames[host.Name]);
                }

                for (var j = 0; j < host.Domains.Count; j++)
                {
                    var domain = host.Domains[j];
                    if (!domains.TryAdd(domain, i))
                    {
                        DuplicateDomain(scope, path, j, domain, table.VirtualHosts[domains[domain]].Name);
                    }
                }

                if (clustersRemoved)
                {
                    ForwardClusters(host, scope, i, references);
                }

                continue;
            }

            if (string.IsNullOrEmpty(host.Name))
            {
                scope.Error(path.At(".name"), "must not be empty");
            }
            else if (!hostNames.TryAdd(host.Name, i))
            {
                DuplicateHost(scope, path, hostNames[host.Name]);
            }

            if (host.Domains.IsEmpty)
            {
                scope.Error(path.At(".domains"), "at least one domain is required (\"*\" takes every host)");
            }

            for (var j = 0; j < host.Domains.Count; j++)
            {
                var domain = host.Domains[j];
                if (Domain(domain) is { } error)
                {
                    scope.Error(path.At($".domains[{j}]"), error);
                }
                else if (!domains.TryAdd(domain, i))
                {
                    DuplicateDomain(scope, path, j, domain, table.VirtualHosts[domains[domain]].Name);
                }
            }

            for (var j = 0; j < host.Routes.Count; j++)
            {
                Route(host.Routes[j], scope, new Path(i, j), references);
            }
        }

        return new HostIndex(table, hostNames, domains);
    }

    /// <summary>
    /// The common delta: a few virtual hosts replaced, added or removed, every other one the same instance as in
    /// <paramref name="previous"/> and in the same order. Checks only the new ones, against the others through
    /// <paramref name="index"/>, and returns the index of <paramref name="table"/> when it is consistent. Null, with
    /// nothing reported, when the table is not so made or anything is wrong: the caller then checks it host by host,
    /// which words every error in order.
    /// </summary>
    private static HostIndex? TryFewChanged(RouteTable table, ConsistencyScope scope, References references, RouteTable previous, HostIndex index, bool clustersRemoved)
    {
        var hosts = table.VirtualHosts;
        var before = previous.VirtualHosts;

        // Past a few changes, checking host by host is as cheap.
        var limit = 64 + (hosts.Count / 16);

        // Walk both tables in order: a host that is not the next previous one is new, or follows removed ones.
        List<int>? changed = null;
        HashSet<VirtualHost>? removed = null;
        var p = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            var host = hosts[i];
            if (p < before.Count && ReferenceEquals(before[p], host))
            {
                p++;
            }
            else if (!string.IsNullOrEmpty(host.Name) && ReferenceEquals(index.Find(host.Name), host))
            {
                // A previous host further on: those before it were removed. One behind (moved, or repeated) runs off the end.
                for (; p < before.Count && !ReferenceEquals(before[p], host); p++)
                {
                    removed ??= new HashSet<VirtualHost>(ReferenceEqualityComparer.Instance);
                    if (!removed.Add(before[p]) || removed.Count > limit)
                    {
                        return null;
                    }
                }

                if (p++ == before.Count)
                {
                    return null;
                }
            }
            else
            {
                changed ??= [];
                if (changed.Count == limit)
                {
                    return null;
                }

                changed.Add(i);
            }
        }

        for (; p < before.Count; p++)
        {
            removed ??= new HashSet<VirtualHost>(ReferenceEqualityComparer.Instance);
            if (!removed.Add(before[p]) || removed.Count > limit)
            {
                return null;
            }
        }

        var mark = scope.Count;
        if (clustersRemoved)
        {
            // The unchanged hosts' routes (the changed ones' are checked below).
            for (int i = 0, next = 0; i < hosts.Count; i++)
            {
                if (changed is not null && next < changed.Count && changed[next] == i)
                {
                    next++;
                    continue;
                }

                ForwardClusters(hosts[i], scope, i, references);
            }
        }

        Dictionary<string, int>? names = null;
        Dictionary<string, int>? domains = null;
        if (changed is not null)
        {
            names = new Dictionary<string, int>(changed.Count, StringComparer.Ordinal);
            domains = new Dictionary<string, int>(changed.Count, StringComparer.OrdinalIgnoreCase);
            foreach (var i in changed)
            {
                var host = hosts[i];
                if (scope.Count != mark || !IsNewHostConsistent(host, i, index, removed, names, domains))
                {
                    scope.Truncate(mark);
                    return null;
                }

                for (var j = 0; j < host.Routes.Count; j++)
                {
                    Route(host.Routes[j], scope, new Path(i, j), references);
                }
            }
        }

        if (scope.Count != mark)
        {
            scope.Truncate(mark);
            return null;
        }

        return index.With(table, names, domains, removed);
    }

    /// <summary>
    /// A virtual host not in the previous table has a name and valid domains that no other virtual host of the table
    /// has: not the unchanged ones (in <paramref name="index"/> and not <paramref name="removed"/>), not the other new
    /// ones (<paramref name="names"/> and <paramref name="domains"/>, which this adds to).
    /// </summary>
    private static bool IsNewHostConsistent(VirtualHost host, int at, HostIndex index, HashSet<VirtualHost>? removed, Dictionary<string, int> names, Dictionary<string, int> domains)
    {
        if (string.IsNullOrEmpty(host.Name) || !names.TryAdd(host.Name, at) || IsKept(index.Find(host.Name), removed) || host.Domains.IsEmpty)
        {
            return false;
        }

        for (var j = 0; j < host.Domains.Count; j++)
        {
            var domain = host.Domains[j];
            if (Domain(domain) is not null || !domains.TryAdd(domain, at) || IsKept(index.FindDomain(domain), removed))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsKept(VirtualHost? previous, HashSet<VirtualHost>? removed) =>
        previous is not null && (removed is null || !removed.Contains(previous));

    /// <summary>
    /// The rules of a table already found consistent that other objects can break: every cluster its routes forward
    /// to exists. For an unchanged table when clusters were removed.
    /// </summary>
    public static void CheckClusters(RouteTable table, ConsistencyScope scope, References references)
    {
        for (var i = 0; i < table.VirtualHosts.Count; i++)
        {
            ForwardClusters(table.VirtualHosts[i], scope, i, references);
        }
    }

    private static void DuplicateHost(ConsistencyScope scope, Path path, int first) =>
        scope.Error(path.At(".name"), $"duplicate name: virtualHosts[{first}] has it too; names must be unique in a route table");

    private static void DuplicateDomain(ConsistencyScope scope, Path path, int index, string domain, string? owner) =>
        scope.Error(path.At($".domains[{index}]"), $"\"{domain}\" is already a domain of virtual host \"{owner}\"; a domain may appear once in a route table");

    /// <summary>Each cluster the routes of <paramref name="host"/> forward to exists; reported as <see cref="Forward"/> does.</summary>
    private static void ForwardClusters(VirtualHost host, ConsistencyScope scope, int hostIndex, References references)
    {
        for (var j = 0; j < host.Routes.Count; j++)
        {
            if (host.Routes[j].Forward is not { } forward)
            {
                continue;
            }

            for (var k = 0; k < forward.Clusters.Count; k++)
            {
                if (forward.Clusters[k].Name != Cluster.InvalidBackend && references.MissingCluster(forward.Clusters[k].Name) is { } missing)
                {
                    scope.Error(new Path(hostIndex, j)[".forward"].At($".clusters[{k}].name"), missing);
                }
            }

            for (var k = 0; k < forward.Mirrors.Count; k++)
            {
                if (references.MissingCluster(forward.Mirrors[k].Cluster) is { } missing)
                {
                    scope.Error(new Path(hostIndex, j)[".forward"].At($".mirrors[{k}].cluster"), missing);
                }
            }
        }
    }

    /// <summary>A host pattern with an optional <c>:port</c>, as <see cref="HostTable{T}"/> takes it.</summary>
    private static string? Domain(string domain)
    {
        var host = HostTable.SplitPort(domain, out var port);
        if (domain.EndsWith(':') || port.Length > 0 && !(int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535))
        {
            return $"\"{domain}\" has an invalid port; write host:port with a port from 1 to 65535";
        }

        var name = host.Length == domain.Length ? domain : host.ToString(); // no copy for a domain without a port
        return name.StartsWith('[') && name.EndsWith(']') && Names.IsIpAddress(name[1..^1]) ? null : Names.CheckWildcardHost(name);
    }

    private static void Route(Route route, ConsistencyScope scope, Path path, References references)
    {
        if (route.Match is { } match)
        {
            Match(match, scope, path[".match"]);
        }

        var actions = (route.Forward is null ? 0 : 1) + (route.DirectResponse is null ? 0 : 1) + (route.Redirect is null ? 0 : 1);
        if (actions != 1)
        {
            scope.Error(path.At(""), $"sets {(actions == 0 ? "none" : "more than one")} of forward, directResponse and redirect; set one");
        }

        if (route.Forward is { } forward)
        {
            Forward(forward, scope, path[".forward"], references);
        }

        if (route.DirectResponse is { Status: < 200 or > 599 } direct)
        {
            scope.Error(path.At(".directResponse.status"), $"{direct.Status} is not a status for a direct response (200-599)");
        }

        if (route.Redirect is { } redirect)
        {
            Redirect(redirect, scope, path[".redirect"]);
        }
    }

    private static void Match(RouteMatch match, ConsistencyScope scope, Path path)
    {
        if ((match.Exact is null ? 0 : 1) + (match.Prefix is null ? 0 : 1) + (match.Regex is null ? 0 : 1) > 1)
        {
            scope.Error(path.At(""), "sets more than one of exact, prefix and regex; set one");
        }

        StartsWithSlash(scope, path, ".exact", match.Exact);
        StartsWithSlash(scope, path, ".prefix", match.Prefix);
        if (match.Regex is not null && RouteRegex.Check(match.Regex) is { } regexError)
        {
            scope.Error(path.At(".regex"), regexError);
        }

        Conditions(match.Headers, ".headers", scope, path);
        Conditions(match.QueryParams, ".queryParams", scope, path);
    }

    private static void Conditions(EquatableArray<HeaderMatch> conditions, string field, ConsistencyScope scope, Path path)
    {
        for (var i = 0; i < conditions.Count; i++)
        {
            var header = conditions[i];
            var at = path.At($"{field}[{i}]");
            if (string.IsNullOrEmpty(header.Name))
            {
                scope.Error(at + ".name", "must not be empty");
            }

            var count = (header.Exact is null ? 0 : 1) + (header.Prefix is null ? 0 : 1) + (header.Regex is null ? 0 : 1) + (header.Present is null ? 0 : 1);
            if (count != 1)
            {
                scope.Error(at, $"sets {(count == 0 ? "none" : "more than one")} of exact, prefix, regex and present; set one");
            }

            if (header.Regex is not null)
            {
                scope.Check(at + ".regex", RouteRegex.Check(header.Regex));
            }
        }
    }

    private static void Forward(ForwardAction forward, ConsistencyScope scope, Path path, References references)
    {
        if (forward.Clusters.IsEmpty)
        {
            scope.Error(path.At(".clusters"), "at least one cluster is required");
        }

        var total = 0L;
        for (var i = 0; i < forward.Clusters.Count; i++)
        {
            var target = forward.Clusters[i];
            if (target.Name != Cluster.InvalidBackend && references.MissingCluster(target.Name) is { } missing)
            {
                scope.Error(path.At($".clusters[{i}].name"), missing);
            }

            if (target.Headers is { } clusterHeaders)
            {
                RouteFeatureRules.Headers(clusterHeaders, scope, path.At($".clusters[{i}].headers"));
            }

            if (target.Weight < 0)
            {
                scope.Error(path.At($".clusters[{i}].weight"), $"{target.Weight} is not a weight; use 0 or more");
            }

            total += Math.Max(0, target.Weight);
        }

        if (!forward.Clusters.IsEmpty && total == 0)
        {
            scope.Error(path.At(".clusters"), "every weight is 0, so no cluster would get a request; give at least one a weight above 0");
        }

        if (forward.Timeout is { } timeout && timeout < TimeSpan.Zero)
        {
            scope.Error(path.At(".timeout"), "must not be negative");
        }

        if (forward.HostRewrite is { } rewrite)
        {
            scope.Check(path.At(".hostRewrite"), Names.CheckFqdn(HostTable.SplitPort(rewrite, out _).ToString()));
        }

        if (forward.Retries is { } retries)
        {
            Retries(retries, scope, path[".retries"]);
        }

        if (forward.Headers is not null || forward.PathRewrite is not null || !forward.Mirrors.IsEmpty || forward.Cors is not null)
        {
            RouteFeatureRules.Forward(forward, scope, path.At(""), references);
        }
    }

    private static void Retries(RetryPolicy retries, ConsistencyScope scope, Path path)
    {
        if (retries.Attempts < 0)
        {
            scope.Error(path.At(".attempts"), "must not be negative");
        }
        else if (retries.Attempts > 0 && retries.RetryOn.IsEmpty && retries.RetriableStatusCodes.IsEmpty)
        {
            scope.Error(path.At(""), "attempts are set but nothing to retry on; add retryOn or retriableStatusCodes");
        }

        for (var i = 0; i < retries.RetriableStatusCodes.Count; i++)
        {
            if (retries.RetriableStatusCodes[i] is < 100 or > 599)
            {
                scope.Error(path.At($".retriableStatusCodes[{i}]"), $"{retries.RetriableStatusCodes[i]} is not an HTTP status code (100-599)");
            }
        }

        if (retries.PerTryTimeout is { } perTry && perTry < TimeSpan.Zero)
        {
            scope.Error(path.At(".perTryTimeout"), "must not be negative");
        }
    }

    private static void Redirect(RedirectAction redirect, ConsistencyScope scope, Path path)
    {
        if (Array.IndexOf(RedirectStatuses, redirect.Status) < 0)
        {
            scope.Error(path.At(".status"), $"{redirect.Status} is not a redirect status; use 301, 302, 303, 307 or 308");
        }

        if (redirect.Scheme is not (null or "http" or "https"))
        {
            scope.Error(path.At(".scheme"), $"\"{redirect.Scheme}\" is not http or https");
        }

        if (redirect.Host is not null)
        {
            scope.Check(path.At(".host"), Names.CheckFqdn(redirect.Host));
        }

        if (redirect.Port is { } port)
        {
            scope.Check(path.At(".port"), Names.CheckPort(port));
        }

        StartsWithSlash(scope, path, ".path", redirect.Path);
    }

    private static void StartsWithSlash(ConsistencyScope scope, Path path, string suffix, string? value)
    {
        if (value is not null && !value.StartsWith('/'))
        {
            scope.Error(path.At(suffix), $"\"{value}\" must start with /");
        }
    }

    /// <summary>
    /// Where in a route table: <c>virtualHosts[i]</c>, or <c>virtualHosts[i].routes[j]</c> followed by a nested
    /// field. Formatted only for an error, so a consistent table is checked without a string per route.
    /// </summary>
    private readonly struct Path(int host, int route = -1, string outer = "", string inner = "")
    {
        // Two levels held apart (route.forward.retries, the deepest today) cost no string; a deeper one joins them.
        public Path this[string field] =>
            outer.Length == 0 ? new(host, route, field)
            : inner.Length == 0 ? new(host, route, outer, field)
            : new(host, route, outer + inner, field);

        public string At(string suffix) =>
            route < 0 ? $"virtualHosts[{host}]{outer}{inner}{suffix}" : $"virtualHosts[{host}].routes[{route}]{outer}{inner}{suffix}";

        public override string ToString() => At("");
    }
}
