using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Meshgate.Core.Yaml;

/// <summary>
/// Writes JSON trees as block-style YAML, keeping key order. Strings that YAML would read back as
/// another type (<c>"80"</c>, <c>"true"</c>, <c>""</c>) are quoted, so the output re-applies unchanged.
/// </summary>
public static class YamlWriter
{
    public static string Write(JsonNode? node)
    {
        using var writer = new StringWriter();
        var emitter = new Emitter(writer, new EmitterSettings(bestIndent: 2, bestWidth: int.MaxValue, isCanonical: false, maxSimpleKeyLength: 1024, indentSequences: false));
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        Emit(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString();
    }

    private static void Emit(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                break;
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, obj.Count == 0 ? MappingStyle.Flow : MappingStyle.Block));
                foreach (var (key, value) in obj)
                {
                    EmitString(emitter, key);
                    Emit(emitter, value);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, array.Count == 0 ? SequenceStyle.Flow : SequenceStyle.Block));
                foreach (var item in array)
                {
                    Emit(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case JsonValue value:
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        EmitString(emitter, value.GetValue<string>());
                        break;
                    case JsonValueKind.Null:
                        emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, true, false));
                        break;
                    default:
                        emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, true, false));
                        break;
                }

                break;
        }
    }

    private static void EmitString(IEmitter emitter, string text)
    {
        var style = text.Contains('\n') ? ScalarStyle.Literal
            : NeedsQuotes(text) ? ScalarStyle.DoubleQuoted
            : ScalarStyle.Any;
        emitter.Emit(new Scalar(null, null, text, style, isPlainImplicit: true, isQuotedImplicit: true));
    }

    /// <summary>Plain scalars that YAML (1.1 or 1.2) would read as null, a boolean or a number.</summary>
    private static bool NeedsQuotes(string text)
    {
        if (text.Length == 0)
        {
            return true;
        }

        IReadOnlyList<SourceDocument> roundTrip;
        try
        {
            roundTrip = YamlReader.Read($"x: {text}", "check");
        }
        catch (YamlFormatException)
        {
            return true;
        }

        if (roundTrip.Count != 1 || roundTrip[0].Root is not JsonObject o || o["x"] is not JsonValue v)
        {
            return true;
        }

        return v.GetValueKind() != JsonValueKind.String
            || v.GetValue<string>() != text
            || text.ToLowerInvariant() is "yes" or "no" or "on" or "off" or "y" or "n"; // YAML 1.1 readers (kubectl) take these as booleans
    }
}
