using System.Runtime.CompilerServices;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// Checks that a snapshot holds together before anyone uses it, like go-control-plane's snapshot <c>Consistent</c>:
/// every route table, cluster and secret named is defined, names are unique, no two listeners bind one address and
/// port, and each object's fields make sense. Checked in the order snapshots are built: secrets, clusters, route
/// tables, listeners. A proxy applies a snapshot only when this finds nothing (otherwise it NACKs and keeps the last).
/// </summary>
public static class ProxyConfigValidator
{
    // Snapshots already found consistent, with their name indexes. A ProxyConfig cannot change once built (records with
    // init-only members over immutable arrays), so a snapshot checked by the loader is not checked again when the
    // proxy swaps it in, and a snapshot made from it by a delta is checked against its indexes.
    private static void CheckEgress(EgressSettings egress, ConsistencyScope top)
    {
        for (var i = 0; i < egress.AllowedCidrs.Count; i++)
        {
            if (!CidrBlock.TryParse(egress.AllowedCidrs[i], out _, out var error))
            {
                top.Error($"egress.allowedCidrs[{i}]", error);
            }
        }

        for (var i = 0; i < egress.DomainFrontingExceptions.Count; i++)
        {
            var host = egress.DomainFrontingExceptions[i];
            top.Check($"egress.domainFrontingExceptions[{i}]", host == "*" ? "\"*\" names every host; set allowDomainFronting: true instead" : Validation.Names.CheckWildcardHost(host));
        }
    }

    private static readonly ConditionalWeakTable<ProxyConfig, Indexes> Consistent = [];

    /// <summary>
    /// Every inconsistency, each naming the object and field:
    /// <c>listener "http": filterChains[0].routeTable: route table "x" is not defined</c>. Empty when consistent.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProxyConfig config) => Validate(config, null);

    /// <summary>
    /// As <see cref="Validate(ProxyConfig)"/> for a snapshot made from <paramref name="previous"/> (a consistent one) by
    /// replacing, adding and removing some objects, as a delta does: the same errors, found by checking only what the
    /// change can affect. Objects that are the same instances as in <paramref name="previous"/> were checked there.
    /// When <paramref name="previous"/> is null or was not found consistent, the whole snapshot is checked.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProxyConfig config, ProxyConfig? previous)
    {
        var errors = Check(config, previous);
        var messages = new string[errors.Count];
        for (var i = 0; i < errors.Count; i++)
        {
            messages[i] = errors[i].ToString();
        }

        return messages;
    }

    /// <summary>As <see cref="Validate(ProxyConfig)"/>, with where each error is in the snapshot (for a loader's line numbers).</summary>
    internal static IReadOnlyList<ConsistencyError> Check(ProxyConfig config) => Check(config, null);

    /// <summary>
    /// As <see cref="Validate(ProxyConfig, ProxyConfig?)"/>, with where each error is in the snapshot. The errors, and
    /// their order, are those of checking the whole snapshot: every object is visited in the same order, and an object
    /// that is the same instance as <paramref name="previous"/>'s object of its name is checked only for what other
    /// objects can break (names, cross-references, domains shared between virtual hosts).
    /// </summary>
    internal static IReadOnlyList<ConsistencyError> Check(ProxyConfig config, ProxyConfig? previous)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Consistent.TryGetValue(config, out _))
        {
            return [];
        }

        // Without a consistent previous snapshot nothing is known to hold, and every object is checked in full.
        var before = previous is not null && Consistent.TryGetValue(previous, out var known) ? known : null;
        var errors = new List<ConsistencyError>();
        var top = new ConsistencyScope(errors, "proxy config", "");
        if (string.IsNullOrWhiteSpace(config.Version))
        {
            top.Error("version", "must not be empty");
        }

        if (config.AccessLog is { } log && string.IsNullOrWhiteSpace(log.Path))
        {
            top.Error("accessLog.path", $"must not be empty; use {AccessLogSettings.Stdout} for the standard output");
        }

        if (config.AccessLog?.Format is { } format && !AccessLogFormat.TryParse(format, out _, out var formatError))
        {
            top.Error("accessLog.format", formatError);
        }

        if (config.Egress is { } egress)
        {
            CheckEgress(egress, top);
        }

        var secrets = Index(config.Secrets, static s => s.Name, "secret", "secrets", errors, before?.Secrets);
        var clusters = Index(config.Clusters, static c => c.Name, "cluster", "clusters", errors, before?.Clusters);
        var routeTables = Index(config.RouteTables, static r => r.Name, "route table", "routeTables", errors, before?.RouteTables);
        var references = new References(secrets.ByName, clusters.ByName, routeTables.ByName);
        _ = Index(config.Listeners, static l => l.Name, "listener", "listeners", errors, null);

        for (var i = 0; i < config.Secrets.Count; i++)
        {
            // A secret's rules look at nothing else: one unchanged passed them in the previous snapshot.
            if (!secrets.IsUnchanged(i))
            {
                SecretRules.Check(config.Secrets[i], ConsistencyScope.For(errors, "secret", config.Secrets[i].Name, "secrets", i));
            }
        }

        for (var i = 0; i < config.Clusters.Count; i++)
        {
            var cluster = config.Clusters[i];
            if (!clusters.IsUnchanged(i))
            {
                ClusterRules.Check(cluster, ConsistencyScope.For(errors, "cluster", cluster.Name, "clusters", i), references);
            }
            else if (secrets.Changed && cluster.Tls is not null)
            {
                ClusterRules.CheckSecrets(cluster, ConsistencyScope.For(errors, "cluster", cluster.Name, "clusters", i), references);
            }
        }

        // Routes only need their clusters to exist: a replaced cluster breaks none, a removed one may.
        var hosts = new Dictionary<string, HostIndex>(config.RouteTables.Count, StringComparer.Ordinal);
        for (var i = 0; i < config.RouteTables.Count; i++)
        {
            var table = config.RouteTables[i];
            HostIndex? previousIndex = null;
            if (before is not null && !string.IsNullOrEmpty(table.Name))
            {
                _ = before.Hosts.TryGetValue(table.Name, out previousIndex);
            }

            HostIndex index;
            if (routeTables.IsUnchanged(i) && previousIndex is not null)
            {
                index = previousIndex;
                if (clusters.Removed)
                {
                    RouteTableRules.CheckClusters(table, ConsistencyScope.For(errors, "route table", table.Name, "routeTables", i), references);
                }
            }
            else
            {
                var previousTable = previousIndex is not null ? before!.RouteTables[table.Name] : null;
                index = RouteTableRules.Check(table, ConsistencyScope.For(errors, "route table", table.Name, "routeTables", i), references, previousTable, previousIndex, clusters.Removed);
            }

            if (!string.IsNullOrEmpty(table.Name))
            {
                _ = hosts.TryAdd(table.Name, index);
            }
        }

        // Listeners are few and name everything else; they are checked in full every time.
        ListenerRules.Check(config.Listeners, errors, references);
        if (errors.Count == 0)
        {
            Consistent.AddOrUpdate(config, new Indexes(secrets.ByName, clusters.ByName, routeTables.ByName, hosts));
        }

        return errors;
    }

    /// <summary>
    /// Objects by name (the first of each); reports empty and repeated names. With <paramref name="before"/>, the index
    /// of a consistent previous snapshot, also which objects are the same instances as there and whether any name
    /// there is gone or now names another object.
    /// </summary>
    private static NameIndex<T> Index<T>(EquatableArray<T> items, Func<T, string?> name, string kind, string field, List<ConsistencyError> errors, Dictionary<string, T>? before)
        where T : class
    {
        var byName = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        var unchanged = before is null ? null : new bool[items.Count];
        var (kept, replaced) = (0, false);
        for (var i = 0; i < items.Count; i++)
        {
            var n = name(items[i]);
            if (string.IsNullOrEmpty(n))
            {
                ConsistencyScope.For(errors, kind, n, field, i).Error("name", "must not be empty");
                continue;
            }

            var first = byName.TryAdd(n, items[i]);
            if (!first)
            {
                var at = IndexOf(items, name, n);
                ConsistencyScope.For(errors, kind, n, field, i).Error("name", $"duplicate name: {field}[{at}] has it too; names must be unique");
            }

            if (before is not null && before.TryGetValue(n, out var old))
            {
                var same = ReferenceEquals(old, items[i]);
                unchanged![i] = same;
                if (first)
                {
                    kept++;
                    replaced |= !same;
                }
            }
        }

        // Names are unique in a consistent snapshot, so fewer of them kept means some were removed.
        return new NameIndex<T>(byName, unchanged, Removed: before is not null && kept < before.Count, Replaced: replaced);
    }

    private static int IndexOf<T>(EquatableArray<T> items, Func<T, string?> name, string wanted)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (name(items[i]) == wanted)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A snapshot's objects by name, with what changed since the previous snapshot's.</summary>
    private readonly record struct NameIndex<T>(Dictionary<string, T> ByName, bool[]? Unchanged, bool Removed, bool Replaced)
    {
        /// <summary>A name of the previous snapshot is gone or names another object: references to it must be checked again.</summary>
        public bool Changed => Removed || Replaced;

        /// <summary>The object at <paramref name="index"/> is the instance of its name in the previous snapshot.</summary>
        public bool IsUnchanged(int index) => Unchanged is not null && Unchanged[index];
    }

    /// <summary>The name indexes of a consistent snapshot, kept with it for checking the next one incrementally.</summary>
    private sealed record Indexes(
        Dictionary<string, Secret> Secrets,
        Dictionary<string, Cluster> Clusters,
        Dictionary<string, RouteTable> RouteTables,
        Dictionary<string, HostIndex> Hosts);
}
