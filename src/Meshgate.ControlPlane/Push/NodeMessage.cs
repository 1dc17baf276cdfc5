using System.Collections.Immutable;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;
using Node = Meshgate.Discovery.V1.Node;

namespace Meshgate.ControlPlane.Push;

/// <summary>Reads the node a proxy announces in its first request; untrusted input, so every field is checked.</summary>
internal static class NodeMessage
{
    /// <returns>The node, or null with <paramref name="error"/> naming the field and the fix.</returns>
    public static ProxyNode? Parse(Node? message, out string? error)
    {
        error = Check(message);
        if (error is not null || message is null)
        {
            return null;
        }

        return new ProxyNode
        {
            Role = message.Role == "gateway" ? ProxyRole.Gateway : ProxyRole.Sidecar,
            Name = message.Name,
            Namespace = message.Namespace,
            Labels = message.Labels.ToImmutableSortedDictionary(StringComparer.Ordinal),
            ServiceAccount = message.ServiceAccount.Length == 0 ? "default" : message.ServiceAccount,
            Addresses = [.. message.Addresses],
            Capture = message.Capture == "transparent" ? CaptureMode.Transparent : CaptureMode.Explicit,
            HasWorkloadCertificate = message.HasWorkloadCertificate,
        };
    }

    private static string? Check(Node? message)
    {
        if (message is null)
        {
            return "the first request has no node: send role, name and namespace first";
        }

        if (message.Role is not ("sidecar" or "gateway"))
        {
            return $"node.role \"{message.Role}\" is not sidecar or gateway";
        }

        if (Names.CheckDns1123Subdomain(message.Name) is { } name)
        {
            return $"node.name \"{message.Name}\": {name}";
        }

        if (Names.CheckDns1123Label(message.Namespace) is { } ns)
        {
            return $"node.namespace \"{message.Namespace}\": {ns}";
        }

        if (message.ServiceAccount.Length > 0 && Names.CheckDns1123Subdomain(message.ServiceAccount) is { } sa)
        {
            return $"node.service_account \"{message.ServiceAccount}\": {sa}";
        }

        foreach (var (key, value) in message.Labels)
        {
            if ((Names.CheckQualifiedName(key) ?? Names.CheckLabelValue(value)) is { } label)
            {
                return $"node.labels[{key}]: {label}";
            }
        }

        foreach (var address in message.Addresses)
        {
            if (!Names.IsIpAddress(address))
            {
                return $"node.addresses: \"{address}\" is not an IP address";
            }
        }

        if (message.Capture is not ("" or "explicit" or "transparent"))
        {
            return $"node.capture \"{message.Capture}\" is not explicit or transparent";
        }

        return message.AdminPort is < 0 or > 65535 ? $"node.admin_port {message.AdminPort} is not a port" : null;
    }
}
