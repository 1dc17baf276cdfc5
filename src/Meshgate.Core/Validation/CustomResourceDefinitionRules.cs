using System.Text.Json.Nodes;
using Meshgate.Core.Schemas;

namespace Meshgate.Core.Validation;

/// <summary>
/// CustomResourceDefinitions are read-only: Meshgate's kinds and their schemas are built in. A definition is accepted only
/// when it is one Meshgate serves with the same spec (so applying <c>manifests/crds/</c> or a chart's CRDs is a no-op that
/// may change labels and annotations); new kinds and changed schemas are refused.
/// </summary>
internal static class CustomResourceDefinitionRules
{
    public static void Check(JsonObject root, string name, RuleContext c)
    {
        if (CustomResourceDefinitions.Find(name) is not { } served)
        {
            var names = string.Join(", ", CustomResourceDefinitions.All.Select(d => CustomResourceDefinitions.NameOf(d.Type)));
            c.Error("metadata.name", $"\"{name}\" is not a kind Meshgate serves; its kinds are built in and new ones cannot be defined (served: {names})");
            return;
        }

        if (!JsonNode.DeepEquals(root["spec"], served["spec"]))
        {
            c.Error("spec", $"differs from the definition Meshgate serves for {name}: the schemas are built in and cannot be changed (manifests/crds/ holds them as Meshgate generates them)");
        }
    }
}
