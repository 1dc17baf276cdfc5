using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Meshgate.Core.ProxyConfiguration;

/// <summary>Reads and writes an <see cref="EquatableArray{T}"/> as a JSON array; <c>null</c> reads as empty.</summary>
internal sealed class EquatableArrayJsonConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) =>
        typeToConvert.IsGenericType && typeToConvert.GetGenericTypeDefinition() == typeof(EquatableArray<>);

    // One closed converter per element type of the model, written out: a converter made with MakeGenericType would
    // need code generated at run time, which a Native AOT proxy does not have. A test checks that every
    // EquatableArray<T> of the model is listed.
    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options)
    {
        var item = typeToConvert.GetGenericArguments()[0];
        return item == typeof(string) ? new Converter<string>()
            : item == typeof(int) ? new Converter<int>()
            : item == typeof(Listener) ? new Converter<Listener>()
            : item == typeof(FilterChain) ? new Converter<FilterChain>()
            : item == typeof(RouteTable) ? new Converter<RouteTable>()
            : item == typeof(VirtualHost) ? new Converter<VirtualHost>()
            : item == typeof(Route) ? new Converter<Route>()
            : item == typeof(HeaderMatch) ? new Converter<HeaderMatch>()
            : item == typeof(WeightedCluster) ? new Converter<WeightedCluster>()
            : item == typeof(HeaderValue) ? new Converter<HeaderValue>()
            : item == typeof(MirrorPolicy) ? new Converter<MirrorPolicy>()
            : item == typeof(OriginMatch) ? new Converter<OriginMatch>()
            : item == typeof(RetryCondition) ? new Converter<RetryCondition>()
            : item == typeof(Cluster) ? new Converter<Cluster>()
            : item == typeof(Endpoint) ? new Converter<Endpoint>()
            : item == typeof(Secret) ? new Converter<Secret>()
            : item == typeof(AccessLogSegment) ? new Converter<AccessLogSegment>()
            : throw new NotSupportedException($"EquatableArray<{item.Name}> has no JSON converter; add its element type to {nameof(EquatableArrayJsonConverterFactory)}.{nameof(CreateConverter)}");
    }

    private sealed class Converter<T> : JsonConverter<EquatableArray<T>>
    {
        public override bool HandleNull => true;

        public override EquatableArray<T> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            if (reader.TokenType == JsonTokenType.Null)
            {
                return default;
            }

            if (reader.TokenType != JsonTokenType.StartArray)
            {
                throw new JsonException($"expected a list, got {reader.TokenType}");
            }

            // Element by element with the element's own metadata (source-generated when the options have it): no
            // intermediate array type to describe, and one exact-size copy at the end.
            var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            var items = new List<T>();
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                items.Add(JsonSerializer.Deserialize(ref reader, info) ?? throw new JsonException("a list item is null; remove it"));
            }

            return items.Count == 0 ? default : new EquatableArray<T>([.. items]);
        }

        public override void Write(Utf8JsonWriter writer, EquatableArray<T> value, JsonSerializerOptions options)
        {
            var info = (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
            writer.WriteStartArray();
            foreach (var item in value)
            {
                JsonSerializer.Serialize(writer, item, info);
            }

            writer.WriteEndArray();
        }
    }
}
