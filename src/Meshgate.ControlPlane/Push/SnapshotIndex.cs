using System.Buffers;
using System.Text.Json;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// Where each named object of a serialized snapshot is in its bytes: listeners, clusters, secrets, route tables and
/// the virtual hosts of each route table, plus the access log and egress settings. Two translations of a node key are compared
/// object by object on these bytes, with no object graph kept: equal bytes are an unchanged object (the snapshot is
/// written the same way each time), so "did anything change?" and "what changed?" (the delta,
/// <see cref="Diff"/>) cost one pass over the JSON.
/// </summary>
internal sealed class SnapshotIndex
{
    internal SnapshotIndex(byte[] json, Section listeners, Section routeTables, Section clusters, Section secrets, Range accessLog, Range egress)
    {
        Egress = egress;
        Json = json;
        Listeners = listeners;
        RouteTables = routeTables;
        Clusters = clusters;
        Secrets = secrets;
        AccessLog = accessLog;
    }

    public byte[] Json { get; }

    public Section Listeners { get; }

    /// <summary>Each route table, with its virtual hosts in <see cref="Item.Children"/>.</summary>
    public Section RouteTables { get; }

    public Section Clusters { get; }

    public Section Secrets { get; }

    /// <summary>The access log settings' value (<c>null</c> included); empty when the field is absent.</summary>
    public Range AccessLog { get; }

    /// <summary>The egress settings' value; empty when the field is absent (the defaults).</summary>
    public Range Egress { get; }

    /// <summary>Indexes a snapshot as <c>ProxyConfigLoader.ToJsonUtf8</c> writes it.</summary>
    /// <exception cref="InvalidOperationException">The bytes are not such a snapshot.</exception>
    public static SnapshotIndex Build(byte[] json)
    {
        var r = new Utf8JsonReader(json);
        Section listeners = Section.Empty, routeTables = Section.Empty, clusters = Section.Empty, secrets = Section.Empty;
        Range accessLog = default, egress = default;
        Expect(r.Read() && r.TokenType == JsonTokenType.StartObject);
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("listeners"u8))
            {
                listeners = ReadSection(ref r, nested: false);
            }
            else if (r.ValueTextEquals("routeTables"u8))
            {
                routeTables = ReadSection(ref r, nested: true);
            }
            else if (r.ValueTextEquals("clusters"u8))
            {
                clusters = ReadSection(ref r, nested: false);
            }
            else if (r.ValueTextEquals("secrets"u8))
            {
                secrets = ReadSection(ref r, nested: false);
            }
            else if (r.ValueTextEquals("accessLog"u8))
            {
                Expect(r.Read());
                var start = (int)r.TokenStartIndex;
                r.Skip();
                accessLog = new Range(start, (int)r.BytesConsumed);
            }
            else if (r.ValueTextEquals("egress"u8))
            {
                Expect(r.Read());
                var start = (int)r.TokenStartIndex;
                r.Skip();
                egress = new Range(start, (int)r.BytesConsumed);
            }
            else
            {
                // The version and the node are not content; any other field would be content this index misses.
                Expect(r.ValueTextEquals("version"u8) || r.ValueTextEquals("node"u8));
                Expect(r.Read());
                r.Skip();
            }
        }

        Expect(r.TokenType == JsonTokenType.EndObject);
        return new SnapshotIndex(json, listeners, routeTables, clusters, secrets, accessLog, egress);
    }

    /// <summary>True when <paramref name="other"/> holds the same objects in the same order (version and node aside).</summary>
    public bool SameContent(SnapshotIndex other) =>
        Bytes(AccessLog).SequenceEqual(other.Bytes(other.AccessLog))
        && Bytes(Egress).SequenceEqual(other.Bytes(other.Egress))
        && SameSection(Listeners, other, other.Listeners)
        && SameSection(RouteTables, other, other.RouteTables)
        && SameSection(Clusters, other, other.Clusters)
        && SameSection(Secrets, other, other.Secrets);

    /// <summary>
    /// The delta (<c>ProxyConfigDelta</c>'s wire form) that turns <paramref name="from"/>, at version
    /// <paramref name="fromVersion"/>, into <paramref name="to"/>, at <paramref name="toVersion"/>; null when a delta
    /// cannot say it: objects kept in both but in another order (a delta only inserts at positions).
    /// </summary>
    public static byte[]? Diff(SnapshotIndex from, string fromVersion, SnapshotIndex to, string toVersion)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("version"u8, toVersion);
            writer.WriteString("baseVersion"u8, fromVersion);
            if (!WriteSection(writer, "listeners"u8, from, from.Listeners, to, to.Listeners, tables: false)
                || !WriteSection(writer, "routeTables"u8, from, from.RouteTables, to, to.RouteTables, tables: true)
                || !WriteSection(writer, "clusters"u8, from, from.Clusters, to, to.Clusters, tables: false)
                || !WriteSection(writer, "secrets"u8, from, from.Secrets, to, to.Secrets, tables: false))
            {
                return null;
            }

            var accessLog = to.Bytes(to.AccessLog);
            if (!accessLog.SequenceEqual(from.Bytes(from.AccessLog)))
            {
                writer.WritePropertyName("accessLog"u8);
                if (accessLog.IsEmpty)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteRawValue(accessLog, skipInputValidation: true);
                }
            }

            var egress = to.Bytes(to.Egress);
            if (!egress.SequenceEqual(from.Bytes(from.Egress)))
            {
                writer.WritePropertyName("egress"u8);
                if (egress.IsEmpty)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteRawValue(egress, skipInputValidation: true);
                }
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private ReadOnlySpan<byte> Bytes(Range range) => Json.AsSpan(range);

    private bool SameSection(Section mine, SnapshotIndex other, Section theirs)
    {
        if (mine.Items.Length != theirs.Items.Length)
        {
            return false;
        }

        for (var i = 0; i < mine.Items.Length; i++)
        {
            if (mine.Items[i].Name != theirs.Items[i].Name || !Bytes(mine.Items[i].Range).SequenceEqual(other.Bytes(theirs.Items[i].Range)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Writes <c>"field": {"remove": [...], "put": [...]}</c> when the section changed, nothing when it did not; false
    /// when the objects kept are not in the same order in both.
    /// </summary>
    private static bool WriteSection(Utf8JsonWriter writer, ReadOnlySpan<byte> field, SnapshotIndex from, Section old, SnapshotIndex to, Section now, bool tables)
    {
        var removed = new List<string>();
        foreach (var item in old.Items)
        {
            if (!now.ByName.ContainsKey(item.Name))
            {
                removed.Add(item.Name);
            }
        }

        var lastKept = -1;
        var started = false;
        for (var i = 0; i < now.Items.Length; i++)
        {
            var item = now.Items[i];
            var oldIndex = old.ByName.GetValueOrDefault(item.Name, -1);
            if (oldIndex >= 0 && to.Bytes(item.Range).SequenceEqual(from.Bytes(old.Items[oldIndex].Range)))
            {
                // Kept as it is: it must come after the one kept before it, as it did.
                if (oldIndex < lastKept)
                {
                    return false;
                }

                lastKept = oldIndex;
                continue;
            }

            if (!started)
            {
                Open(writer, field, removed);
                started = true;
            }

            writer.WriteStartObject();
            writer.WriteNumber("index"u8, i);
            if (tables)
            {
                // A route table is patched: its virtual hosts as a delta of their own.
                writer.WriteString("name"u8, item.Name);
                var oldHosts = oldIndex >= 0 ? old.Items[oldIndex].Children! : Section.Empty;
                if (!WriteSection(writer, "virtualHosts"u8, from, oldHosts, to, item.Children!, tables: false))
                {
                    return false;
                }
            }
            else
            {
                writer.WritePropertyName("value"u8);
                writer.WriteRawValue(to.Bytes(item.Range), skipInputValidation: true);
            }

            writer.WriteEndObject();
        }

        if (!started && removed.Count > 0)
        {
            Open(writer, field, removed);
            started = true;
        }

        if (started)
        {
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return true;
    }

    private static void Open(Utf8JsonWriter writer, ReadOnlySpan<byte> field, List<string> removed)
    {
        writer.WritePropertyName(field);
        writer.WriteStartObject();
        if (removed.Count > 0)
        {
            writer.WriteStartArray("remove"u8);
            foreach (var name in removed)
            {
                writer.WriteStringValue(name);
            }

            writer.WriteEndArray();
        }

        writer.WriteStartArray("put"u8);
    }

    /// <summary>An array of named objects (or <c>null</c>); with <paramref name="nested"/>, each object's <c>virtualHosts</c> too.</summary>
    private static Section ReadSection(ref Utf8JsonReader r, bool nested)
    {
        Expect(r.Read());
        if (r.TokenType == JsonTokenType.Null)
        {
            return Section.Empty;
        }

        Expect(r.TokenType == JsonTokenType.StartArray);
        var items = new List<Item>();
        while (r.Read() && r.TokenType == JsonTokenType.StartObject)
        {
            var start = (int)r.TokenStartIndex;
            string? name = null;
            Section? children = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("name"u8))
                {
                    Expect(r.Read() && r.TokenType == JsonTokenType.String);
                    name = r.GetString();
                }
                else if (nested && r.ValueTextEquals("virtualHosts"u8))
                {
                    children = ReadSection(ref r, nested: false);
                }
                else
                {
                    Expect(r.Read());
                    r.Skip();
                }
            }

            Expect(r.TokenType == JsonTokenType.EndObject && name is not null);
            items.Add(new Item(name!, new Range(start, (int)r.BytesConsumed), nested ? children ?? Section.Empty : null));
        }

        Expect(r.TokenType == JsonTokenType.EndArray);
        return new Section([.. items]);
    }

    private static void Expect(bool condition)
    {
        if (!condition)
        {
            throw new InvalidOperationException("not a snapshot as ProxyConfigLoader writes it");
        }
    }

    /// <summary>One named object: its bytes, and for a route table its virtual hosts.</summary>
    internal readonly record struct Item(string Name, Range Range, Section? Children);

    /// <summary>The objects of one list, in order, and where each name is.</summary>
    internal sealed class Section
    {
        public Section(Item[] items)
        {
            Items = items;
            ByName = new Dictionary<string, int>(items.Length, StringComparer.Ordinal);
            for (var i = 0; i < items.Length; i++)
            {
                ByName.TryAdd(items[i].Name, i);
            }
        }

        public static Section Empty { get; } = new([]);

        public Item[] Items { get; }

        public Dictionary<string, int> ByName { get; }
    }
}
