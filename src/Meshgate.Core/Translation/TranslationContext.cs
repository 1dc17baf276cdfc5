using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>Everything one translation reads: the indexes, built once per call, and who the snapshot is for.</summary>
internal sealed class TranslationContext
{
    public TranslationContext(ResourceSet resources, MeshSettings mesh, ProxyNode node)
    {
        Resources = resources;
        Mesh = mesh;
        Node = node;
        Registry = Registry.For(resources);
        Services = Registry.Services;
        VirtualServices = Registry.VirtualServices;
        DestinationRules = DestinationRuleLookup.Build(Registry, node, mesh.RootNamespace);
        Secrets = new SecretSource(resources, node.Namespace);
        NodeWorkload = new Workload(node.Name, node.Namespace, node.Labels, "", node.ServiceAccount);
    }

    public ResourceSet Resources { get; }

    public MeshSettings Mesh { get; }

    public ProxyNode Node { get; }

    public Registry Registry { get; }

    public ServiceIndex Services { get; }

    public VirtualServiceIndex VirtualServices { get; }

    public DestinationRuleLookup DestinationRules { get; }

    public SecretSource Secrets { get; }

    /// <summary>The proxy as a workload, for selectors (sourceLabels, workloadSelector, Gateway selector).</summary>
    public Workload NodeWorkload { get; }

    public bool IsGateway => Node.Role == ProxyConfiguration.ProxyRole.Gateway;

    /// <summary>Istio's SPIFFE identity of a service account.</summary>
    public string Identity(string ns, string serviceAccount) => MeshSettings.SpiffeIdentity(Mesh.TrustDomain, ns, serviceAccount);
}
