using k8s.Models;

namespace Meshgate.Core.Validation;

/// <summary>The parts of Kubernetes' own validation (pkg/apis/*/validation) that matter for the kinds Meshgate serves.</summary>
internal static class KubernetesRules
{
    private static readonly string[] PortProtocols = ["TCP", "UDP", "SCTP"];
    private static readonly string[] ServiceTypes = ["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"];

    public static void Service(V1Service service, RuleContext c)
    {
        var spec = service.Spec;
        if (spec is null)
        {
            c.Error("spec", "required field is missing");
            return;
        }

        var type = spec.Type ?? "ClusterIP";
        if (!ServiceTypes.Contains(type))
        {
            c.Error("spec.type", RuleContext.NotOneOf(type, ServiceTypes));
        }

        var ports = spec.Ports?.ToList() ?? [];
        if (ports.Count == 0 && type != "ExternalName" && spec.ClusterIP != "None")
        {
            c.Error("spec.ports", "at least one port is required");
        }

        for (var i = 0; i < ports.Count; i++)
        {
            var path = FieldPath.Index("spec.ports", i);
            var port = ports[i];
            c.Check(path + ".port", Names.CheckPort(port.Port));
            if (ports.Count > 1 && string.IsNullOrEmpty(port.Name))
            {
                c.Error(path + ".name", "every port needs a name when a Service has more than one port");
            }
            else if (!string.IsNullOrEmpty(port.Name))
            {
                c.Check(path + ".name", Names.CheckDns1123Label(port.Name));
            }

            Protocol(port.Protocol, path + ".protocol", c);
            TargetPort(port.TargetPort, path + ".targetPort", c);
        }

        c.Unique("spec.ports", ports, p => p.Name, "port name");
        c.Labels("spec.selector", spec.Selector);
        if (type == "ExternalName")
        {
            if (string.IsNullOrEmpty(spec.ExternalName))
            {
                c.Error("spec.externalName", "type ExternalName needs externalName, the DNS name to alias");
            }
            else
            {
                c.Check("spec.externalName", Names.CheckFqdn(spec.ExternalName));
            }
        }
    }

    public static void Deployment(V1Deployment deployment, RuleContext c)
    {
        var spec = deployment.Spec;
        if (spec is null)
        {
            c.Error("spec", "required field is missing");
            return;
        }

        c.Range("spec.replicas", spec.Replicas, 0, int.MaxValue, "replica count");
        if (spec.Selector is null)
        {
            c.Error("spec.selector", "required field is missing; add selector.matchLabels matching the template's labels");
        }
        else if (spec.Selector.MatchLabels is not { Count: > 0 } && spec.Selector.MatchExpressions is not { Count: > 0 })
        {
            c.Error("spec.selector", "empty selector is invalid for a Deployment");
        }

        if (spec.Template is null)
        {
            c.Error("spec.template", "required field is missing");
            return;
        }

        var labels = spec.Template.Metadata?.Labels ?? new Dictionary<string, string>();
        foreach (var (key, value) in spec.Selector?.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                var has = actual is null ? $"has no {key} label" : $"has {key}={actual}";
                c.Error("spec.template.metadata.labels",
                    $"selector does not match template labels: spec.selector.matchLabels wants {key}={value}, but the template {has}; the Deployment would never find its own pods");
                break;
            }
        }

        c.Labels("spec.template.metadata.labels", spec.Template.Metadata?.Labels);
        var containers = spec.Template.Spec?.Containers?.ToList() ?? [];
        if (c.NonEmpty("spec.template.spec.containers", containers, "container"))
        {
            for (var i = 0; i < containers.Count; i++)
            {
                var path = FieldPath.Index("spec.template.spec.containers", i);
                if (string.IsNullOrEmpty(containers[i].Name))
                {
                    c.Error(path + ".name", "required field is missing");
                }
                else
                {
                    c.Check(path + ".name", Names.CheckDns1123Label(containers[i].Name));
                }

                if (string.IsNullOrEmpty(containers[i].Image))
                {
                    c.Error(path + ".image", "required field is missing");
                }

                var ports = containers[i].Ports?.ToList() ?? [];
                for (var p = 0; p < ports.Count; p++)
                {
                    c.Check(FieldPath.Index(path + ".ports", p) + ".containerPort", Names.CheckPort(ports[p].ContainerPort));
                    Protocol(ports[p].Protocol, FieldPath.Index(path + ".ports", p) + ".protocol", c);
                }
            }

            c.Unique("spec.template.spec.containers", containers, x => x.Name, "container name");
        }

        if (spec.Template.Spec?.ServiceAccountName is { Length: > 0 } sa)
        {
            c.Check("spec.template.spec.serviceAccountName", Names.CheckDns1123Subdomain(sa));
        }
    }

    public static void NetworkPolicy(V1NetworkPolicy policy, RuleContext c)
    {
        var spec = policy.Spec;
        if (spec is null)
        {
            c.Error("spec", "required field is missing");
            return;
        }

        if (spec.PodSelector is null)
        {
            c.Error("spec.podSelector", "required field is missing; use podSelector: {} for every pod in the namespace");
        }

        foreach (var (type, i) in (spec.PolicyTypes ?? []).Select((t, i) => (t, i)))
        {
            if (type is not ("Ingress" or "Egress"))
            {
                c.Error(FieldPath.Index("spec.policyTypes", i), RuleContext.NotOneOf(type, ["Ingress", "Egress"]));
            }
        }

        var egress = spec.Egress?.ToList() ?? [];
        for (var i = 0; i < egress.Count; i++)
        {
            var path = FieldPath.Index("spec.egress", i);
            Ports(egress[i].Ports?.ToList(), path + ".ports", c);
            Peers(egress[i].To?.ToList(), path + ".to", c);
        }

        var ingress = spec.Ingress?.ToList() ?? [];
        for (var i = 0; i < ingress.Count; i++)
        {
            var path = FieldPath.Index("spec.ingress", i);
            Ports(ingress[i].Ports?.ToList(), path + ".ports", c);
            Peers(ingress[i].FromProperty?.ToList(), path + ".from", c);
        }
    }

    private static void Ports(List<V1NetworkPolicyPort>? ports, string path, RuleContext c)
    {
        for (var i = 0; i < (ports?.Count ?? 0); i++)
        {
            var ppath = FieldPath.Index(path, i);
            var port = ports![i];
            Protocol(port.Protocol, ppath + ".protocol", c);
            TargetPort(port.Port, ppath + ".port", c);
            if (port.EndPort is { } end)
            {
                c.Check(ppath + ".endPort", Names.CheckPort(end));
                if (int.TryParse(port.Port?.Value, out var start) && end < start)
                {
                    c.Error(ppath + ".endPort", $"endPort {end} is lower than port {start}");
                }
            }
        }
    }

    private static void Peers(List<V1NetworkPolicyPeer>? peers, string path, RuleContext c)
    {
        for (var i = 0; i < (peers?.Count ?? 0); i++)
        {
            var ppath = FieldPath.Index(path, i);
            var peer = peers![i];
            if (peer.IpBlock is { } block)
            {
                if (peer.PodSelector is not null || peer.NamespaceSelector is not null)
                {
                    c.Error(ppath, "ipBlock cannot be combined with podSelector or namespaceSelector");
                }

                if (block.Cidr is null || !block.Cidr.Contains('/') || !Names.IsIpOrCidr(block.Cidr))
                {
                    c.Error(ppath + ".ipBlock.cidr", $"\"{block.Cidr}\" is not a CIDR block such as 192.0.2.0/24");
                }
            }
            else if (peer.PodSelector is null && peer.NamespaceSelector is null)
            {
                c.Error(ppath, "a peer needs podSelector, namespaceSelector or ipBlock");
            }

            c.Labels(ppath + ".namespaceSelector.matchLabels", peer.NamespaceSelector?.MatchLabels);
            c.Labels(ppath + ".podSelector.matchLabels", peer.PodSelector?.MatchLabels);
        }
    }

    private static void Protocol(string? protocol, string path, RuleContext c)
    {
        if (protocol is not null && !PortProtocols.Contains(protocol))
        {
            c.Error(path, RuleContext.NotOneOf(protocol, PortProtocols));
        }
    }

    private static void TargetPort(IntOrString? port, string path, RuleContext c)
    {
        if (port?.Value is not { } value)
        {
            return;
        }

        if (int.TryParse(value, out var number))
        {
            c.Check(path, Names.CheckPort(number));
        }
        else if (value.Length > 15 || Names.CheckDns1123Label(value) is not null || !value.Any(char.IsAsciiLetter))
        {
            c.Error(path, $"\"{value}\" is neither a port number (1-65535) nor a port name (up to 15 lower-case letters, digits and '-')");
        }
    }
}
