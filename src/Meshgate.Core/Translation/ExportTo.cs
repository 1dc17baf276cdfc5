namespace Meshgate.Core.Translation;

/// <summary>
/// Istio's <c>exportTo</c>: which namespaces see an object. Absent or empty is <c>*</c> (meshConfig
/// <c>defaultServiceExportTo</c> etc.); <c>.</c> is the object's own namespace; <c>~</c> is none.
/// </summary>
internal sealed class ExportTo
{
    private static readonly ExportTo Everyone = new(true, []);

    private readonly bool _all;
    private readonly HashSet<string> _namespaces;

    private ExportTo(bool all, HashSet<string> namespaces)
    {
        _all = all;
        _namespaces = namespaces;
    }

    public static ExportTo From(IReadOnlyList<string>? exportTo, string ownNamespace)
    {
        if (exportTo is null || exportTo.Count == 0)
        {
            return Everyone;
        }

        var namespaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in exportTo)
        {
            switch (entry)
            {
                case "*":
                    return Everyone;
                case ".":
                    namespaces.Add(ownNamespace);
                    break;
                case "~":
                    break;
                default:
                    namespaces.Add(entry);
                    break;
            }
        }

        return new ExportTo(false, namespaces);
    }

    public bool VisibleTo(string ns) => _all || _namespaces.Contains(ns);
}
