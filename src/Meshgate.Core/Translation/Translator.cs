using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources;

namespace Meshgate.Core.Translation;

/// <summary>
/// Turns the stored configuration into one proxy's snapshot, with Istio's semantics for both roles. Pure: the same
/// resources, settings and node give an equal <see cref="ProxyConfig"/>; the result passes <see cref="ProxyConfigValidator"/>
/// once the control plane has added the workload's secrets (<c>default</c>, <c>ROOTCA</c>) that ISTIO_MUTUAL names.
/// Built in one direction (index → clusters → routes → listeners); see docs/translation.md for the rules.
/// </summary>
public static class Translator
{
    public static ProxyConfig Translate(ResourceSet resources, MeshSettings mesh, ProxyNode node, string version)
    {
        var shell = new ProxyConfig
        {
            Version = version,
            Node = new Node { Id = node.Id, Role = node.Role, Namespace = node.Namespace, ServiceAccount = node.ServiceAccount },
            AccessLog = mesh.AccessLogFile.Length == 0 ? null : new AccessLogSettings
            {
                Path = mesh.AccessLogFile,
                Encoding = mesh.AccessLogEncoding,
                Format = mesh.AccessLogFormat.Length == 0 ? null : mesh.AccessLogFormat,
            },
            Egress = mesh.Egress.IsDefault() ? null : mesh.Egress,
        };

        var context = new TranslationContext(resources, mesh, node);
        return node.Role == ProxyRole.Gateway
            ? new GatewayTranslator(context).Translate(shell)
            : new SidecarTranslator(context).Translate(shell);
    }

    /// <summary>
    /// The key <paramref name="node"/>'s snapshot depends on at this revision: proxies with the same key get the same
    /// snapshot (but for the node id), so the control plane translates once per key. It is <see cref="ProxyNode.Key"/>
    /// (role, namespace, service account, labels, capture), except that a sidecar's labels are left out while no
    /// VirtualService matches on <c>sourceLabels</c> and no DestinationRule has a <c>workloadSelector</c>: only those
    /// read a sidecar's labels. A gateway keeps its labels (Gateway selectors pick gateways by them). Pure, and cheap
    /// after the first call for <paramref name="resources"/> (it reads the registry shared by every translation).
    /// </summary>
    public static string KeyFor(ResourceSet resources, ProxyNode node) =>
        node.Role == ProxyRole.Gateway || Registry.For(resources).SidecarLabelsMatter ? node.Key : node.KeyWithoutLabels;

    /// <summary>
    /// The mesh config from ConfigMap <c>istio</c> (key <c>mesh</c>) in the root namespace; defaults when absent, and
    /// for whatever cannot be read (<see cref="MeshConfigReader.Read"/> also says what).
    /// </summary>
    public static MeshSettings MeshSettingsFrom(ResourceSet resources) => MeshConfigReader.Read(resources).Settings;
}
