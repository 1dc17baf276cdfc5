using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf;

namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>
/// Request bodies in Kubernetes' protobuf encoding (<c>application/vnd.kubernetes.protobuf</c>), which kubectl's typed
/// clients send (<c>kubectl create namespace</c>, <c>create secret</c>, <c>create configmap</c>...), read as the JSON
/// object they stand for. The envelope is the magic <c>k8s\0</c> and a <c>runtime.Unknown</c> holding the type and the
/// object's bytes; the object is read with the field numbers of k8s.io/api's and k8s.io/apimachinery's
/// <c>generated.proto</c> (v0.32, embedded from <c>proto/k8s.io/</c> and parsed on first use: no generated code).
/// Fields keep their Go JSON names; empty values are left out, as Go's <c>omitempty</c> leaves them out of JSON.
/// </summary>
internal static partial class KubernetesProtobuf
{
    public const string ContentType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] Magic = "k8s\0"u8.ToArray();

    private static readonly Lazy<IReadOnlyDictionary<string, Message>> Messages = new(Load);

    private sealed record Field(string Name, int Number, string Type, bool Repeated, string? MapValue);

    private sealed record Message(string Name, IReadOnlyDictionary<int, Field> Fields);

    /// <summary>The object in <paramref name="body"/>, with its apiVersion and kind.</summary>
    /// <exception cref="ApiError">BadRequest: not the Kubernetes protobuf envelope, or a kind this server does not read.</exception>
    public static JsonObject Decode(byte[] body)
    {
        if (body.Length < Magic.Length || !body.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw ApiError.BadRequest("the body is not in Kubernetes' protobuf encoding (it does not start with k8s\\0)");
        }

        try
        {
            var unknown = Read(ByteString.CopyFrom(body, Magic.Length, body.Length - Magic.Length), Messages.Value[".k8s.io.apimachinery.pkg.runtime.Unknown"]);
            var apiVersion = unknown["typeMeta"]?["apiVersion"]?.ToString() ?? "";
            var kind = unknown["typeMeta"]?["kind"]?.ToString() ?? "";
            var slash = apiVersion.IndexOf('/');
            var group = slash < 0 ? "" : apiVersion[..slash];
            var version = slash < 0 ? apiVersion : apiVersion[(slash + 1)..];
            var package = group switch
            {
                "" => $".k8s.io.api.core.{version}",
                "meta.k8s.io" => $".k8s.io.apimachinery.pkg.apis.meta.{version}",
                _ => $".k8s.io.api.{group.Split('.')[0]}.{version}",
            };
            if (!Messages.Value.TryGetValue($"{package}.{kind}", out var message))
            {
                throw ApiError.UnsupportedMediaType($"{kind} of {apiVersion} is not read from protobuf here; send it as application/json");
            }

            var raw = unknown["raw"]?.ToString() is { } base64 ? ByteString.FromBase64(base64) : ByteString.Empty;
            var result = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind };
            foreach (var (key, value) in Read(raw, message))
            {
                result[key] = value?.DeepClone();
            }

            // Re-read, so every value is JSON-backed (numbers readable as any numeric type), as a JSON body's are.
            return (JsonObject)JsonNode.Parse(result.ToJsonString())!;
        }
        catch (Exception e) when (e is InvalidProtocolBufferException or FormatException)
        {
            throw ApiError.BadRequest($"the protobuf body cannot be read: {e.Message}");
        }
    }

    private static JsonObject Read(ByteString bytes, Message message)
    {
        var result = new JsonObject();
        var maps = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        var input = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            if (!message.Fields.TryGetValue(number, out var field))
            {
                input.SkipLastField();
                continue;
            }

            if (field.MapValue is { } mapValue)
            {
                var entry = input.ReadBytes();
                var (key, value) = ReadMapEntry(entry, field.Type, mapValue);
                if (!maps.TryGetValue(field.Name, out var map))
                {
                    map = maps[field.Name] = [];
                }

                map[key] = value;
                continue;
            }

            var packed = field.Repeated && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited && IsVarint(field.Type);
            var values = new List<JsonNode?>();
            if (packed)
            {
                var inner = new CodedInputStream(input.ReadBytes().ToByteArray());
                while (!inner.IsAtEnd)
                {
                    values.Add(Scalar(inner, field.Type));
                }
            }
            else
            {
                values.Add(Value(input, field.Type));
            }

            if (field.Repeated)
            {
                if (result[field.Name] is not JsonArray list)
                {
                    list = [];
                    result[field.Name] = list;
                }

                foreach (var value in values)
                {
                    list.Add(value);
                }
            }
            else
            {
                result[field.Name] = values[0];
            }
        }

        foreach (var (name, map) in maps)
        {
            result[name] = map;
        }

        // Go's omitempty: what is empty is not said.
        foreach (var key in result.Where(p => IsEmpty(p.Value)).Select(p => p.Key).ToList())
        {
            result.Remove(key);
        }

        return result;
    }

    private static (string Key, JsonNode? Value) ReadMapEntry(ByteString entry, string keyType, string valueType)
    {
        var input = new CodedInputStream(entry.ToByteArray());
        var key = "";
        JsonNode? value = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    key = Value(input, keyType)?.ToString() ?? "";
                    break;
                case 2:
                    value = Value(input, valueType);
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (key, value ?? (valueType == "string" ? "" : null));
    }

    private static bool IsVarint(string type) => type is "int32" or "int64" or "uint32" or "uint64" or "bool" or "sint32" or "sint64";

    private static JsonNode? Value(CodedInputStream input, string type)
    {
        if (type.StartsWith('.'))
        {
            var bytes = input.ReadBytes();
            return Special(bytes, type) ?? Read(bytes, Messages.Value.TryGetValue(type, out var message) ? message : throw new FormatException($"unknown message {type}"));
        }

        return Scalar(input, type);
    }

    private static JsonNode? Scalar(CodedInputStream input, string type) => type switch
    {
        "string" => input.ReadString(),
        "bytes" => Convert.ToBase64String(input.ReadBytes().ToByteArray()),
        "int32" => input.ReadInt32(),
        "int64" => input.ReadInt64(),
        "uint32" => input.ReadUInt32(),
        "uint64" => input.ReadUInt64(),
        "sint32" => input.ReadSInt32(),
        "sint64" => input.ReadSInt64(),
        "bool" => input.ReadBool(),
        "double" => input.ReadDouble(),
        "float" => input.ReadFloat(),
        "fixed32" => input.ReadFixed32(),
        "fixed64" => input.ReadFixed64(),
        _ => throw new FormatException($"unsupported field type {type}"),
    };

    /// <summary>The apimachinery types whose JSON is not their fields: times, quantities, int-or-strings, raw JSON.</summary>
    private static JsonNode? Special(ByteString bytes, string type)
    {
        switch (type)
        {
            case ".k8s.io.apimachinery.pkg.apis.meta.v1.Time":
            case ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime":
                {
                    var time = Read(bytes, Messages.Value[type]);
                    var seconds = time["seconds"]?.GetValue<long>() ?? 0;
                    var nanos = time["nanos"]?.GetValue<int>() ?? 0;
                    if (seconds == 0 && nanos == 0)
                    {
                        return null;
                    }

                    var value = DateTimeOffset.FromUnixTimeSeconds(seconds).AddTicks(nanos / 100);
                    return type.EndsWith("MicroTime", StringComparison.Ordinal)
                        ? value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture)
                        : value.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
                }

            case ".k8s.io.apimachinery.pkg.api.resource.Quantity":
                return Read(bytes, Messages.Value[type])["string"]?.DeepClone();
            case ".k8s.io.apimachinery.pkg.util.intstr.IntOrString":
                {
                    var value = Read(bytes, Messages.Value[type]);
                    return (value["type"]?.GetValue<long>() ?? 0) == 1 ? value["strVal"]?.ToString() ?? "" : value["intVal"]?.GetValue<int>() ?? 0;
                }

            case ".k8s.io.apimachinery.pkg.apis.meta.v1.Duration":
                {
                    var nanoseconds = Read(bytes, Messages.Value[type])["duration"]?.GetValue<long>() ?? 0;
                    return nanoseconds % 1_000_000_000 == 0
                        ? $"{nanoseconds / 1_000_000_000}s"
                        : $"{(nanoseconds / 1_000_000.0).ToString(CultureInfo.InvariantCulture)}ms";
                }

            case ".k8s.io.apimachinery.pkg.runtime.RawExtension":
            case ".k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1":
                {
                    var raw = Read(bytes, Messages.Value[type]);
                    var base64 = (raw["raw"] ?? raw["Raw"])?.ToString();
                    if (base64 is null)
                    {
                        return null;
                    }

                    try
                    {
                        return JsonNode.Parse(Convert.FromBase64String(base64));
                    }
                    catch (JsonException)
                    {
                        return null;
                    }
                }

            default:
                return null;
        }
    }

    private static bool IsEmpty(JsonNode? node) => node switch
    {
        null => true,
        JsonObject o => o.Count == 0,
        JsonArray a => a.Count == 0,
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => v.GetValue<string>().Length == 0,
            JsonValueKind.False => true,
            JsonValueKind.Number => v.ToJsonString() is "0" or "0.0",
            _ => false,
        },
        _ => false,
    };

    /// <summary>Reads the embedded <c>generated.proto</c> files: top-level messages of optional, repeated and map fields.</summary>
    private static Dictionary<string, Message> Load()
    {
        var messages = new Dictionary<string, Message>(StringComparer.Ordinal);
        var assembly = typeof(KubernetesProtobuf).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("k8s.io/", StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            var text = reader.ReadToEnd();
            var package = "." + PackageLine().Match(text).Groups[1].Value;
            foreach (Match match in MessageBlock().Matches(text))
            {
                var fields = new Dictionary<int, Field>();
                foreach (Match line in FieldLine().Matches(match.Groups[2].Value))
                {
                    var number = int.Parse(line.Groups["number"].Value, CultureInfo.InvariantCulture);
                    var name = line.Groups["name"].Value;
                    if (line.Groups["key"].Success)
                    {
                        fields[number] = new Field(name, number, line.Groups["key"].Value, false, Qualify(line.Groups["value"].Value, package));
                    }
                    else
                    {
                        fields[number] = new Field(name, number, Qualify(line.Groups["type"].Value, package), line.Groups["label"].Value == "repeated", null);
                    }
                }

                messages[$"{package}.{match.Groups[1].Value}"] = new Message(match.Groups[1].Value, fields);
            }
        }

        return messages;
    }

    private static readonly HashSet<string> ScalarTypes = ["string", "bytes", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "bool", "double", "float", "fixed32", "fixed64"];

    private static string Qualify(string type, string package) =>
        ScalarTypes.Contains(type) || type.StartsWith('.') ? type : $"{package}.{type}";

    [GeneratedRegex(@"^package ([\w.]+);", RegexOptions.Multiline)]
    private static partial Regex PackageLine();

    [GeneratedRegex(@"^message (\w+) \{\n(.*?)^\}", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex MessageBlock();

    [GeneratedRegex(@"^\s*(?:(?<label>optional|repeated) (?<type>[\w.]+)|map<(?<key>\w+), (?<value>[\w.]+)>) (?<name>\w+) = (?<number>\d+);", RegexOptions.Multiline)]
    private static partial Regex FieldLine();
}
