using k8s.Models;

namespace Meshgate.Core.Resources;

/// <summary>
/// A Kubernetes label selector against one object's labels: every <c>matchLabels</c> pair and every
/// <c>matchExpressions</c> requirement (<c>In</c>, <c>NotIn</c>, <c>Exists</c>, <c>DoesNotExist</c>) must hold, so an
/// empty selector (<c>{}</c>) matches everything; an unknown operator matches nothing. Gateway API's
/// <c>allowedRoutes.namespaces.selector</c> and NetworkPolicy's pod and namespace selectors use it.
/// </summary>
public static class LabelSelectors
{
    public static bool Matches(V1LabelSelector selector, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var requirement in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(requirement.Key ?? "", out var actual);
            var values = requirement.Values ?? [];
            var holds = requirement.OperatorProperty switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!holds)
            {
                return false;
            }
        }

        return true;
    }
}
