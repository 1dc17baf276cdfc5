namespace Meshgate.Core.Validation;

/// <summary>Builds kubectl-style field paths: <c>spec.ports[0].number</c>, <c>metadata.labels["app.kubernetes.io/name"]</c>.</summary>
internal static class FieldPath
{
    public static string Field(string parent, string name)
    {
        if (!IsIdentifier(name))
        {
            return $"{parent}[\"{name}\"]";
        }

        return parent.Length == 0 ? name : $"{parent}.{name}";
    }

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    private static bool IsIdentifier(string name)
    {
        if (name.Length == 0)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '_' and not '-')
            {
                return false;
            }
        }

        return true;
    }
}
