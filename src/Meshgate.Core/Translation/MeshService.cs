using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>One host of the service registry: a ServiceEntry host or a Kubernetes Service, with its ports and endpoints.</summary>
internal sealed class MeshService
{
    /// <summary>Lower-case; a ServiceEntry host as written (maybe <c>*.suffix</c>), or <c>name.ns.svc.cluster.local</c>.</summary>
    public required string Hostname { get; init; }

    public required string Namespace { get; init; }

    /// <summary>The ServiceEntry's or Service's name, for ordering.</summary>
    public required string ResourceName { get; init; }

    public required bool IsKubernetes { get; init; }

    public required ExportTo ExportTo { get; init; }

    public required IReadOnlyList<MeshPort> Ports { get; init; }

    /// <summary>Kubernetes Services are resolved through their pods (EDS); ServiceEntries as they say.</summary>
    public ServiceEntryResolution Resolution { get; init; } = ServiceEntryResolution.None;

    public bool MeshExternal { get; init; }

    /// <summary>A ServiceEntry's <c>endpoints</c>, when it lists them.</summary>
    public IReadOnlyList<WorkloadEntrySpec> Endpoints { get; init; } = [];

    /// <summary>The pods behind the service: a Service's selector, or a ServiceEntry's workloadSelector; null when neither.</summary>
    public IReadOnlyDictionary<string, string>? Selector { get; init; }

    /// <summary>IP addresses (not CIDR blocks) from a ServiceEntry's <c>addresses</c>.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = [];

    public IReadOnlyList<string> SubjectAltNames { get; init; } = [];

    public bool IsWildcard => Hostname.StartsWith('*');

    public MeshPort? Port(int number)
    {
        foreach (var port in Ports)
        {
            if (port.Number == number)
            {
                return port;
            }
        }

        return null;
    }
}

/// <summary>A service port: the number clients use, and the one endpoints listen on.</summary>
internal sealed record MeshPort(int Number, string Name, PortProtocol Protocol, int TargetPort)
{
    public PortKind Kind => PortProtocols.Kind(Protocol);
}

/// <summary>A Running pod (or the workload of a connected proxy), as the control plane wrote it.</summary>
/// <param name="IsMeshGateway">A Meshgate gateway proxy with a workload certificate (its Pod's annotations), which unwraps the mesh's tunnel.</param>
internal sealed record Workload(string Name, string Namespace, IReadOnlyDictionary<string, string> Labels, string Address, string ServiceAccount, bool IsMeshGateway = false)
{

    public bool Matches(IReadOnlyDictionary<string, string>? selector)
    {
        if (selector is null)
        {
            return true;
        }

        foreach (var (key, value) in selector)
        {
            if (!Labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        return true;
    }
}
