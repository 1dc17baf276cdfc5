using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

using k8s.Models;

using Meshgate.ControlPlane.Api;

using Meshgate.Core.Patching;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// PATCH bodies as the API applies them to a stored object: a JSON patch (RFC 6902), a merge patch (RFC 7386) and a
/// strategic merge patch, the body read as the API reads it (UTF-8 text, then JSON). A body that is not JSON is a <see cref="JsonException"/> (400), one that does not apply a
/// <see cref="PatchException"/>; nothing else may escape.
/// </summary>
public static class PatchTarget
{
    private static readonly JsonObject Deployment = JsonNode.Parse("""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"sleep","namespace":"default","labels":{"app":"sleep"}},
         "spec":{"replicas":1,"selector":{"matchLabels":{"app":"sleep"}},
          "template":{"metadata":{"labels":{"app":"sleep"}},"spec":{"containers":[
            {"name":"sleep","image":"curl","args":["sleep","infinity"],"env":[{"name":"A","value":"1"}],"ports":[{"containerPort":80,"protocol":"TCP"}]},
            {"name":"proxy","image":"meshgate"}]}}}}
        """)!.AsObject();

    public static void Run(ReadOnlySpan<byte> input)
    {
        // Each patch gets its own parse, as each request does: a merge may adopt the patch's nodes into the result.
        if (Parse(input) is not { } jsonPatch)
        {
            return;
        }

        var mergePatch = Parse(input)!.Value.Node;
        var strategicPatch = Parse(input)!.Value.Node;
        Apply(() => JsonPatch.Apply(Deployment.DeepClone(), jsonPatch.Node));
        Apply(() => JsonMergePatch.Apply(Deployment.DeepClone(), mergePatch));
        Apply(() => StrategicMergePatch.Apply(Deployment, strategicPatch, typeof(V1Deployment)));
    }

    private static (JsonNode? Node, bool)? Parse(ReadOnlySpan<byte> input)
    {
        try
        {
            // As the API reads a body: decoded as UTF-8 text first (invalid bytes become U+FFFD), then parsed.
            return (ApiJson.ParseBody(Encoding.UTF8.GetString(input)), true);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static void Apply(Func<JsonNode?> patch)
    {
        try
        {
            _ = patch()?.ToJsonString();
        }
        catch (PatchException)
        {
        }
    }
}
