namespace Meshgate.Proxy.Observability;

/// <summary>meshConfig.accessLogEncoding: TEXT (Istio's default) or JSON.</summary>
public enum AccessLogEncoding
{
    Text = 0,
    Json,
}
