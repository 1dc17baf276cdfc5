using System.Text.Json;
using System.Text.Json.Nodes;

using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api;

/// <summary>JSON settings shared by the API server and its clients: the Kubernetes conventions of <see cref="ResourceJson"/>.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options => ResourceJson.Options;

    private static readonly JsonDocumentOptions BodyOptions = new() { AllowDuplicateProperties = false };

    /// <summary>
    /// A request body's JSON. A name given twice in one object is a <see cref="JsonException"/> (400), as kubectl's
    /// strict field validation refuses it; parsed leniently, it would throw <see cref="ArgumentException"/> (500) later,
    /// when a patch or the schema check first enumerates that object.
    /// </summary>
    /// <exception cref="JsonException">The text is not JSON, or repeats a name in an object.</exception>
    public static JsonNode? ParseBody(string text) => JsonNode.Parse(text, documentOptions: BodyOptions);

    /// <inheritdoc cref="ParseBody(string)"/>
    public static Task<JsonNode?> ParseBodyAsync(Stream utf8, CancellationToken cancellationToken) =>
        JsonNode.ParseAsync(utf8, documentOptions: BodyOptions, cancellationToken: cancellationToken);
}
