using System.Text.Json.Nodes;

using Meshgate.Core.Resources;

namespace Meshgate.Core.Validation;

/// <summary>Kubernetes' rules for <c>metadata</c>: name syntax per kind, namespace, labels and annotations.</summary>
internal static class MetadataRules
{
    private const int MaxAnnotationBytes = 256 * 1024;

    public static void Check(ResourceType type, JsonObject metadata, RuleContext c)
    {
        var name = metadata["name"]!.GetValue<string>();
        var nameError = type.Kind switch
        {
            "Namespace" => Names.CheckDns1123Label(name),
            "Service" when type.Group.Length == 0 => Names.CheckDns1035Label(name),
            _ => Names.CheckDns1123Subdomain(name),
        };
        c.Check("metadata.name", nameError);

        if (type.Namespaced)
        {
            c.Check("metadata.namespace", Names.CheckDns1123Label(metadata["namespace"]!.GetValue<string>()));
        }

        if (metadata["labels"] is JsonObject labels)
        {
            foreach (var (key, value) in labels)
            {
                c.Check(FieldPath.Field("metadata.labels", key),
                    Names.CheckQualifiedName(key) ?? Names.CheckLabelValue(value?.GetValue<string>() ?? ""));
            }
        }

        if (metadata["annotations"] is JsonObject annotations)
        {
            var size = 0;
            foreach (var (key, value) in annotations)
            {
                c.Check(FieldPath.Field("metadata.annotations", key), Names.CheckQualifiedName(key));
                size += key.Length + (value?.GetValue<string>().Length ?? 0);
            }

            if (size > MaxAnnotationBytes)
            {
                c.Error("metadata.annotations", $"annotations total {size} bytes, more than the limit of {MaxAnnotationBytes}");
            }
        }
    }
}
