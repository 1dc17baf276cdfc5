using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// What changed between two snapshots of one node key, as the control plane sends it to a proxy that runs the first
/// (<see cref="BaseVersion"/>): like Envoy's delta xDS, with the virtual hosts of a route table patched one by one as
/// VHDS does, so adding one service to 10,000 sends and re-reads one cluster and one virtual host, not all of them.
/// Applying it (<see cref="Apply"/>) gives the snapshot the control plane would have sent whole, equal to it and in
/// the same order. The wire form is in docs/contracts.md ("Delta snapshots").
/// </summary>
public sealed class ProxyConfigDelta
{
    public required string Version { get; init; }

    /// <summary>The version the delta applies to; a proxy running any other refuses it (NACK) and gets the whole snapshot.</summary>
    public required string BaseVersion { get; init; }

    public ListDelta<Listener>? Listeners { get; init; }

    /// <summary>Route tables removed, and route tables added or patched (their virtual hosts as a delta of their own).</summary>
    public ListDelta<RouteTablePatch>? RouteTables { get; init; }

    public ListDelta<Cluster>? Clusters { get; init; }

    public ListDelta<Secret>? Secrets { get; init; }

    /// <summary>True when the delta states the access log settings (<see cref="AccessLog"/>, null for none); false keeps them.</summary>
    public bool SetsAccessLog { get; init; }

    public AccessLogSettings? AccessLog { get; init; }

    /// <summary>True when the delta states the egress settings (<see cref="Egress"/>, null for the defaults); false keeps them.</summary>
    public bool SetsEgress { get; init; }

    public EgressSettings? Egress { get; init; }

    /// <summary>
    /// The snapshot <paramref name="utf8"/> (a delta's JSON) makes of <paramref name="current"/>, or why it cannot be
    /// applied: not a delta, made for another base version, or naming objects the base does not have. Everything
    /// the delta does not name is kept as the same instance, which lets <see cref="ProxyConfigValidator.Validate(ProxyConfig, ProxyConfig?)"/>
    /// check only what changed. The result is not yet checked for consistency.
    /// </summary>
    public static DeltaResult Apply(ProxyConfig current, ReadOnlySpan<byte> utf8)
    {
        ArgumentNullException.ThrowIfNull(current);
        return ProxyConfigReader.TryReadDelta(utf8, out var delta, out var error)
            ? delta.ApplyTo(current)
            : new DeltaResult(null, [error]);
    }

    /// <summary>The snapshot this delta makes of <paramref name="current"/>, or the reasons it cannot.</summary>
    public DeltaResult ApplyTo(ProxyConfig current)
    {
        ArgumentNullException.ThrowIfNull(current);
        if (current.Version != BaseVersion)
        {
            return new DeltaResult(null, [$"delta {Version} applies to version {BaseVersion}, but this proxy runs {current.Version}"]);
        }

        var errors = new List<string>();
        var listeners = Merge(current.Listeners, Listeners, static l => l.Name, "listener", errors);
        var clusters = Merge(current.Clusters, Clusters, static c => c.Name, "cluster", errors);
        var secrets = Merge(current.Secrets, Secrets, static s => s.Name, "secret", errors);
        var routeTables = current.RouteTables;
        if (RouteTables is { } tables)
        {
            routeTables = Merge(current.RouteTables, Patched(current.RouteTables, tables, errors), static t => t.Name, "route table", errors);
        }

        if (errors.Count > 0)
        {
            return new DeltaResult(null, errors);
        }

        return new DeltaResult(
            current with
            {
                Version = Version,
                Listeners = listeners,
                RouteTables = routeTables,
                Clusters = clusters,
                Secrets = secrets,
                AccessLog = SetsAccessLog ? AccessLog : current.AccessLog,
                Egress = SetsEgress ? Egress : current.Egress,
            },
            []);
    }

    /// <summary>The route tables the patches make, each from the current table of its name (or an empty one).</summary>
    private static ListDelta<RouteTable> Patched(EquatableArray<RouteTable> current, ListDelta<RouteTablePatch> tables, List<string> errors)
    {
        var puts = new DeltaPut<RouteTable>[tables.Put.Count];
        for (var i = 0; i < puts.Length; i++)
        {
            var patch = tables.Put[i];
            RouteTable? existing = null;
            foreach (var table in current)
            {
                if (table.Name == patch.Value.Name)
                {
                    existing = table;
                    break;
                }
            }

            var hosts = Merge(existing?.VirtualHosts ?? default, patch.Value.VirtualHosts, static h => h.Name, $"virtual host of route table \"{patch.Value.Name}\"", errors);
            puts[i] = new DeltaPut<RouteTable>(patch.Index, new RouteTable { Name = patch.Value.Name, VirtualHosts = hosts });
        }

        return new ListDelta<RouteTable> { Remove = tables.Remove, Put = new EquatableArray<DeltaPut<RouteTable>>(puts) };
    }

    /// <summary>
    /// <paramref name="current"/> less the objects removed or put, then each put object inserted at its index (the
    /// indexes are those of the new list, ascending): the new list, provided the objects kept are in the same order
    /// in both lists, which the control plane makes sure of before it sends a delta.
    /// </summary>
    private static EquatableArray<T> Merge<T>(EquatableArray<T> current, ListDelta<T>? delta, Func<T, string> nameOf, string kind, List<string> errors)
    {
        if (delta is null || delta.Remove.IsEmpty && delta.Put.IsEmpty)
        {
            return current;
        }

        // The names the delta touches, and whether the base has each: a few, not a set of every name in the base.
        var touched = new Dictionary<string, bool>(delta.Remove.Count + delta.Put.Count, StringComparer.Ordinal);
        foreach (var name in delta.Remove)
        {
            if (!touched.TryAdd(name, false))
            {
                errors.Add($"the delta removes {kind} \"{name}\" twice");
            }
        }

        foreach (var put in delta.Put)
        {
            var name = nameOf(put.Value);
            if (!touched.TryAdd(name, false))
            {
                errors.Add(delta.Remove.AsSpan().Contains(name) ? $"the delta both removes and puts {kind} \"{name}\"" : $"the delta puts {kind} \"{name}\" twice");
            }
        }

        var matched = 0;
        foreach (var item in current)
        {
            ref var present = ref CollectionsMarshal.GetValueRefOrNullRef(touched, nameOf(item));
            if (!Unsafe.IsNullRef(ref present))
            {
                present = true;
                matched++;
            }
        }

        foreach (var name in delta.Remove)
        {
            if (!touched[name])
            {
                errors.Add($"the delta removes {kind} \"{name}\", which the base version does not have");
            }
        }

        var length = current.Count - matched + delta.Put.Count;
        var previousIndex = -1;
        foreach (var put in delta.Put)
        {
            if (put.Index <= previousIndex || put.Index >= length)
            {
                errors.Add($"the delta puts {kind} \"{nameOf(put.Value)}\" at index {put.Index}, which is not in 0-{length - 1} after the one before it");
                break;
            }

            previousIndex = put.Index;
        }

        if (errors.Count > 0)
        {
            return current;
        }

        var result = new T[length];
        var next = 0; // the next put
        var kept = 0; // the next item of current to look at
        for (var i = 0; i < length; i++)
        {
            if (next < delta.Put.Count && delta.Put[next].Index == i)
            {
                result[i] = delta.Put[next++].Value;
                continue;
            }

            while (touched.ContainsKey(nameOf(current[kept])))
            {
                kept++;
            }

            result[i] = current[kept++];
        }

        return new EquatableArray<T>(result);
    }
}

/// <summary>Objects of one list removed (by name) and put (added or replaced, at their index in the new list).</summary>
public sealed class ListDelta<T>
{
    public EquatableArray<string> Remove { get; init; }

    /// <summary>Ascending by index.</summary>
    public EquatableArray<DeltaPut<T>> Put { get; init; }
}

/// <summary>An object added or replaced, and its index in the new list.</summary>
public readonly record struct DeltaPut<T>(int Index, T Value);

/// <summary>A route table added or patched: its virtual hosts removed and put, the others kept.</summary>
public sealed class RouteTablePatch
{
    public required string Name { get; init; }

    public ListDelta<VirtualHost>? VirtualHosts { get; init; }
}

/// <summary>The snapshot a delta makes, or why it makes none.</summary>
public sealed record DeltaResult(ProxyConfig? Config, IReadOnlyList<string> Errors);
