using Meshgate.Core.Resources;

namespace Meshgate.Core.Analysis;

/// <summary>
/// One problem found in the configuration: which object, which field, what is wrong and what it does to traffic
/// (<see cref="Message"/>), and what to change (<see cref="Fix"/>).
/// </summary>
public sealed record Finding(FindingCode Code, ObjectKey Resource, string Field, string Message, string Fix)
{
    public Severity Severity => Code.Severity;

    /// <summary>istioctl's line: <c>Error [MG0002] (VirtualService default/x) Referenced gateway not found: "gw" (spec.gateways[0]). Fix: ...</c>.</summary>
    public override string ToString() => $"{Severity} [{Code.Code}] ({Resource}) {Message}. Fix: {Fix}";
}
