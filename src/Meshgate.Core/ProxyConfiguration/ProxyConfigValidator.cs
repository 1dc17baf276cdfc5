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
    // Snapshots already found consistent. A ProxyConfig cannot change once built (records with init-only members over
    // immutable arrays), so a snapshot checked by the loader is not checked again when the proxy swaps it in.
    private static readonly ConditionalWeakTable<ProxyConfig, object> Consistent = [];
    private static readonly object Marker = new();

    /// <summary>
    /// Every inconsistency, each naming the object and field:
    /// <c>listener "http": filterChains[0].routeTable: route table "x" is not defined</c>. Empty when consistent.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Consistent.TryGetValue(config, out _))
        {
            return [];
        }

        var errors = Check(config);
        var messages = new string[errors.Count];
        for (var i = 0; i < errors.Count; i++)
        {
            messages[i] = errors[i].ToString();
        }

        return messages;
    }

    /// <summary>
    /// As <see cref="Validate(ProxyConfig)"/> for a snapshot made from <paramref name="previous"/> (a consistent one) by
    /// replacing, adding and removing some objects, as a delta does: the same errors, found by checking only what the
    /// change can affect. Objects that are the same instances as in <paramref name="previous"/> were checked there.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProxyConfig config, ProxyConfig? previous)
    {
        // For now the whole snapshot is checked; the incremental check comes next.
        _ = previous;
        return Validate(config);
    }

    /// <summary>As <see cref="Validate(ProxyConfig)"/>, with where each error is in the snapshot (for a loader's line numbers).</summary>
    internal static IReadOnlyList<ConsistencyError> Check(ProxyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (Consistent.TryGetValue(config, out _))
        {
            return [];
        }

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

        var references = new References(
            Index(config.Secrets, s => s.Name, "secret", "secrets", errors),
            Index(config.Clusters, c => c.Name, "cluster", "clusters", errors),
            Index(config.RouteTables, r => r.Name, "route table", "routeTables", errors));
        _ = Index(config.Listeners, l => l.Name, "listener", "listeners", errors);

        for (var i = 0; i < config.Secrets.Count; i++)
        {
            SecretRules.Check(config.Secrets[i], ConsistencyScope.For(errors, "secret", config.Secrets[i].Name, "secrets", i));
        }

        for (var i = 0; i < config.Clusters.Count; i++)
        {
            ClusterRules.Check(config.Clusters[i], ConsistencyScope.For(errors, "cluster", config.Clusters[i].Name, "clusters", i), references);
        }

        for (var i = 0; i < config.RouteTables.Count; i++)
        {
            RouteTableRules.Check(config.RouteTables[i], ConsistencyScope.For(errors, "route table", config.RouteTables[i].Name, "routeTables", i), references);
        }

        ListenerRules.Check(config.Listeners, errors, references);
        if (errors.Count == 0)
        {
            Consistent.AddOrUpdate(config, Marker);
        }

        return errors;
    }

    /// <summary>Objects by name (the first of each); reports empty and repeated names.</summary>
    private static Dictionary<string, T> Index<T>(EquatableArray<T> items, Func<T, string?> name, string kind, string field, List<ConsistencyError> errors)
    {
        var byName = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var n = name(items[i]);
            if (string.IsNullOrEmpty(n))
            {
                ConsistencyScope.For(errors, kind, n, field, i).Error("name", "must not be empty");
            }
            else if (!byName.TryAdd(n, items[i]))
            {
                var first = IndexOf(items, name, n);
                ConsistencyScope.For(errors, kind, n, field, i).Error("name", $"duplicate name: {field}[{first}] has it too; names must be unique");
            }
        }

        return byName;
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
}
