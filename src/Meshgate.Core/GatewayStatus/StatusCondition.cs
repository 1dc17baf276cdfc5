namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// One condition as computed, before it is written: <c>observedGeneration</c> and <c>lastTransitionTime</c> are added
/// against the object's stored status (<see cref="ConditionList"/>).
/// </summary>
internal sealed record StatusCondition(string Type, bool Status, string Reason, string Message)
{
    public static StatusCondition True(string type, string reason, string message) => new(type, true, reason, message);

    public static StatusCondition False(string type, string reason, string message) => new(type, false, reason, message);
}
