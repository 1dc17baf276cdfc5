using System.Net;

namespace Meshgate.ControlPlane;

/// <summary>Where the control plane keeps its data and listens.</summary>
public sealed record ControlPlaneOptions
{
    public const int DefaultApiPort = 15014;

    /// <summary>The data directory (SQLite store, CA keys, logs); <c>./.meshgate</c> by default.</summary>
    public string DataDirectory { get; init; } = ".meshgate";

    /// <summary>Where supervised proxies' logs are kept: <c>DATA/logs/NAMESPACE/POD.log</c>.</summary>
    public string LogsDirectory => Path.Combine(DataDirectory, "logs");

    /// <summary>The resource API for the CLI (HTTP).</summary>
    public IPEndPoint ApiEndpoint { get; init; } = new(IPAddress.Loopback, DefaultApiPort);
}
