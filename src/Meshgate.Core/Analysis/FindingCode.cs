namespace Meshgate.Core.Analysis;

/// <summary>One catalogued diagnostic: its code (<c>MG0002</c>), severity and a short name (istioctl's message types).</summary>
public sealed record FindingCode(string Code, Severity Severity, string Name)
{
    /// <summary>Where the code is documented, relative to the repository root.</summary>
    public string Documentation => $"docs/analyze.md#{Code.ToLowerInvariant()}";
}
