using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

using Meshgate.Core.Validation;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>
/// A duration as Istio and Envoy users write it: Go's syntax (<c>10s</c>, <c>250ms</c>, <c>1m30s</c>), the form of
/// protobuf's JSON <c>Duration</c> (<c>1.5s</c>) included. Written back as whole milliseconds or seconds.
/// </summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("expected a duration such as \"10s\"");
        return Durations.TryParse(text, out var value) ? value : throw new JsonException($"\"{text}\" is not a duration; write for example 10s, 250ms or 1m30s");
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteStringValue(Format(value));

    /// <summary><c>10s</c>, <c>250ms</c>, or <c>0.000100s</c> for what milliseconds cannot hold.</summary>
    public static string Format(TimeSpan value)
    {
        if (value.Ticks % TimeSpan.TicksPerSecond == 0)
        {
            return (value.Ticks / TimeSpan.TicksPerSecond).ToString(CultureInfo.InvariantCulture) + "s";
        }

        if (value.Ticks % TimeSpan.TicksPerMillisecond == 0)
        {
            return (value.Ticks / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "ms";
        }

        return (value.Ticks / (double)TimeSpan.TicksPerSecond).ToString("0.0######", CultureInfo.InvariantCulture) + "s";
    }
}
