using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Meshgate.Core.ProxyConfiguration;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// Writes a node key's snapshot byte for byte as <see cref="ProxyConfigLoader.ToJsonUtf8"/> does, and its
/// <see cref="SnapshotIndex"/> as it goes, serializing only what changed: each listener, virtual host, cluster and
/// secret equal to the previous snapshot's object of the same name (record equality, which starts with reference
/// equality) is copied from the previous bytes. Serialization is deterministic, so equal objects have equal bytes; a
/// change thus costs a comparison of the objects and a copy of the bytes, not a serialization of the whole mesh.
/// </summary>
internal static class SnapshotComposer
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The snapshot of <paramref name="config"/> and where each object is in it; <paramref name="previous"/> (the last
    /// snapshot of the same key, with the bytes its index points into) lends the bytes of its unchanged objects.
    /// <see cref="Composed.Config"/> equals <paramref name="config"/> with each unchanged object replaced by the
    /// previous snapshot's instance, so that what checks or keeps it next (<see cref="ProxyConfigValidator.Validate(ProxyConfig, ProxyConfig?)"/>)
    /// sees by reference what did not change.
    /// </summary>
    public static Composed Compose(ProxyConfig config, PreviousSnapshot? previous)
    {
        var options = ProxyConfigJson.Options;
        var buffer = new ArrayBufferWriter<byte>(Math.Max(4096, (previous?.Index.Json.Length ?? 0) + 65536));
        SnapshotIndex.Section listeners, routeTables, clusters, secrets;
        Range accessLog = default, egress = default;
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("version"u8, config.Version);
            if (config.Node is { } node)
            {
                writer.WritePropertyName("node"u8);
                JsonSerializer.Serialize(writer, node, Info<Node>(options));
            }

            (listeners, config) = (WriteItems(writer, "listeners"u8, config.Listeners, previous?.Config.Listeners ?? default, previous?.Index, previous?.Index.Listeners, static l => l.Name, out var l), config with { Listeners = l });
            (routeTables, config) = (WriteRouteTables(writer, config.RouteTables, previous, out var t), config with { RouteTables = t });
            (clusters, config) = (WriteItems(writer, "clusters"u8, config.Clusters, previous?.Config.Clusters ?? default, previous?.Index, previous?.Index.Clusters, static c => c.Name, out var c), config with { Clusters = c });
            (secrets, config) = (WriteItems(writer, "secrets"u8, config.Secrets, previous?.Config.Secrets ?? default, previous?.Index, previous?.Index.Secrets, static s => s.Name, out var s), config with { Secrets = s });
            if (config.AccessLog is { } log)
            {
                writer.WritePropertyName("accessLog"u8);
                var start = Position(writer);
                JsonSerializer.Serialize(writer, log, Info<AccessLogSettings>(options));
                accessLog = new Range((int)start, (int)Position(writer));
            }

            if (config.Egress is { } settings)
            {
                writer.WritePropertyName("egress"u8);
                var start = Position(writer);
                JsonSerializer.Serialize(writer, settings, Info<EgressSettings>(options));
                egress = new Range((int)start, (int)Position(writer));
            }

            writer.WriteEndObject();
        }

        var json = buffer.WrittenSpan.ToArray();
        return new Composed(config, SnapshotJson.FromBytes(config, json), new SnapshotIndex(json, listeners, routeTables, clusters, secrets, accessLog, egress));
    }

    private static JsonTypeInfo<T> Info<T>(JsonSerializerOptions options) => (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));

    /// <summary>Where the next byte goes: what the writer has committed to the buffer and what it holds.</summary>
    private static long Position(Utf8JsonWriter writer) => writer.BytesCommitted + writer.BytesPending;

    private static SnapshotIndex.Section WriteItems<T>(
        Utf8JsonWriter writer, ReadOnlySpan<byte> field, EquatableArray<T> items, EquatableArray<T> before, SnapshotIndex? beforeIndex,
        SnapshotIndex.Section? beforeSection, Func<T, string> nameOf, out EquatableArray<T> canonical)
        where T : class
    {
        writer.WriteStartArray(field);
        var section = WriteElements(writer, items, before, beforeIndex, beforeSection, nameOf, out canonical);
        writer.WriteEndArray();
        return section;
    }

    /// <summary>
    /// The elements of one list, each copied when unchanged, else serialized; the array is the caller's.
    /// <paramref name="canonical"/> is <paramref name="items"/> with each unchanged one the previous instance.
    /// </summary>
    private static SnapshotIndex.Section WriteElements<T>(
        Utf8JsonWriter writer, EquatableArray<T> items, EquatableArray<T> before, SnapshotIndex? beforeIndex,
        SnapshotIndex.Section? beforeSection, Func<T, string> nameOf, out EquatableArray<T> canonical)
        where T : class
    {
        var info = Info<T>(ProxyConfigJson.Options);
        var result = new SnapshotIndex.Item[items.Count];
        var kept = new T[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var name = nameOf(item);
            ReadOnlySpan<byte> bytes;
            if (beforeIndex is not null && beforeSection is not null && beforeSection.ByName.TryGetValue(name, out var at)
                && at < before.Count && before[at].Equals(item))
            {
                bytes = beforeIndex.Json.AsSpan(beforeSection.Items[at].Range);
                kept[i] = before[at];
            }
            else
            {
                bytes = JsonSerializer.SerializeToUtf8Bytes(item, info);
                kept[i] = item;
            }

            writer.WriteRawValue(bytes, skipInputValidation: true);
            var end = (int)Position(writer);
            result[i] = new SnapshotIndex.Item(name, new Range(end - bytes.Length, end), null);
        }

        canonical = EquatableArray.Create<T>(kept);
        return new SnapshotIndex.Section(result);
    }

    /// <summary>
    /// Route tables as the serializer writes a <see cref="RouteTable"/> (<c>{"name": …, "virtualHosts": […]}</c>), each
    /// virtual host copied or serialized on its own: one host's change in a table of ten thousand writes one host.
    /// </summary>
    private static SnapshotIndex.Section WriteRouteTables(Utf8JsonWriter writer, EquatableArray<RouteTable> tables, PreviousSnapshot? previous, out EquatableArray<RouteTable> canonical)
    {
        writer.WriteStartArray("routeTables"u8);
        var result = new SnapshotIndex.Item[tables.Count];
        var kept = new RouteTable[tables.Count];
        for (var i = 0; i < tables.Count; i++)
        {
            var table = tables[i];
            EquatableArray<VirtualHost> beforeHosts = default;
            SnapshotIndex.Section? beforeSection = null;
            RouteTable? beforeTable = null;
            if (previous is not null && previous.Index.RouteTables.ByName.TryGetValue(table.Name, out var at) && at < previous.Config.RouteTables.Count)
            {
                beforeTable = previous.Config.RouteTables[at];
                beforeHosts = beforeTable.VirtualHosts;
                beforeSection = previous.Index.RouteTables.Items[at].Children;
            }

            writer.WriteStartObject();
            var start = (int)Position(writer) - 1; // the '{' just written (after any separator)
            writer.WriteString("name"u8, table.Name);
            writer.WriteStartArray("virtualHosts"u8);
            var hosts = WriteElements(writer, table.VirtualHosts, beforeHosts, previous?.Index, beforeSection, static h => h.Name, out var keptHosts);
            writer.WriteEndArray();
            writer.WriteEndObject();
            result[i] = new SnapshotIndex.Item(table.Name, new Range(start, (int)Position(writer)), hosts);
            var canonicalTable = table with { VirtualHosts = keptHosts };
            kept[i] = beforeTable is not null && beforeTable.Equals(canonicalTable) ? beforeTable : canonicalTable;
        }

        canonical = EquatableArray.Create<RouteTable>(kept);
        writer.WriteEndArray();
        return new SnapshotIndex.Section(result);
    }
}

/// <summary>A composed snapshot: the translation with unchanged objects as the previous instances, its bytes, their index.</summary>
internal sealed record Composed(ProxyConfig Config, SnapshotJson Json, SnapshotIndex Index);

/// <summary>A key's last snapshot: the translation and its serialized form's index (whose bytes it points into).</summary>
internal sealed record PreviousSnapshot(ProxyConfig Config, SnapshotIndex Index);
