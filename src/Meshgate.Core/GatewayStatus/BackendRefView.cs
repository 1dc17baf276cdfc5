namespace Meshgate.Core.GatewayStatus;

/// <summary>One <c>backendRef</c> of an HTTPRoute or TLSRoute rule, whichever route kind it came from.</summary>
internal readonly record struct BackendRefView(string? Group, string? Kind, string? Name, string? Namespace, long? Weight);
