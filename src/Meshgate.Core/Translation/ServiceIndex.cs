using System.Net;
using System.Runtime.CompilerServices;

using k8s.Models;

using Meshgate.Core.Resources;
using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Translation;

/// <summary>
/// The service registry at one revision: ServiceEntry hosts and Kubernetes Services by host, and Running pods by
/// namespace. Built once per translation, read by host afterwards (no scans per lookup).
/// </summary>
internal sealed class ServiceIndex
{
    private readonly Dictionary<string, List<MeshService>> _byHost = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Workload>> _podsByNamespace = new(StringComparer.Ordinal);

    // A ServiceEntry's services, made once per stored object: they depend on the object alone, and unchanged objects
    // are the same instances across revisions, so each revision's index reuses them (and they are never changed).
    private static readonly ConditionalWeakTable<Resource, MeshService[]> EntryServices = new();

    private ServiceIndex()
    {
    }

    /// <summary>Every service, in a stable order: namespace, object name, host.</summary>
    public List<MeshService> All { get; } = [];

    public static ServiceIndex Build(Registry resources)
    {
        var index = new ServiceIndex();
        foreach (var resource in resources.Of(ResourceTypes.Pod))
        {
            if (Pod(resource) is { } pod)
            {
                index.PodsIn(pod.Namespace, create: true)!.Add(pod);
            }
        }

        foreach (var resource in resources.Of(ResourceTypes.Service))
        {
            if (KubernetesService(resource) is { } service)
            {
                index.Add(service);
            }
        }

        foreach (var resource in resources.Of(ResourceTypes.ServiceEntry))
        {
            foreach (var service in EntryServices.GetValue(resource, static r => ParsedSpecs.Spec<ServiceEntrySpec>(r) is { } spec ? [.. ServiceEntryHosts(r, spec)] : []))
            {
                index.Add(service);
            }
        }

        return index;
    }

    /// <summary>
    /// The service for <paramref name="host"/> that <paramref name="clientNamespace"/> sees: one in the client's own
    /// namespace first (Istio prefers it for duplicate hosts), else the first in order (Kubernetes Services before
    /// ServiceEntries). Exact host only.
    /// </summary>
    public MeshService? Find(string host, string clientNamespace)
    {
        if (!_byHost.TryGetValue(host.ToLowerInvariant(), out var candidates))
        {
            return null;
        }

        MeshService? first = null;
        foreach (var candidate in candidates)
        {
            if (!candidate.ExportTo.VisibleTo(clientNamespace))
            {
                continue;
            }

            if (candidate.Namespace == clientNamespace)
            {
                return candidate;
            }

            first ??= candidate;
        }

        return first;
    }

    /// <summary>The service for a host, or for the most specific registry wildcard that covers it.</summary>
    public MeshService? FindCovering(string host, string clientNamespace)
    {
        if (Find(host, clientNamespace) is { } exact)
        {
            return exact;
        }

        foreach (var candidate in HostNames.WildcardCandidates(host))
        {
            if (Find(candidate, clientNamespace) is { } wildcard)
            {
                return wildcard;
            }
        }

        return null;
    }

    /// <summary>One service per host that <paramref name="clientNamespace"/> sees, ordered by host.</summary>
    public List<MeshService> VisibleTo(string clientNamespace)
    {
        var result = new List<MeshService>();
        foreach (var (host, _) in _byHost)
        {
            if (Find(host, clientNamespace) is { } service)
            {
                result.Add(service);
            }
        }

        result.Sort((a, b) => string.CompareOrdinal(a.Hostname, b.Hostname));
        return result;
    }

    /// <summary>The Running pods of a namespace that a selector picks; an empty or absent selector picks none.</summary>
    public List<Workload> Workloads(string ns, IReadOnlyDictionary<string, string>? selector, IReadOnlyDictionary<string, string>? subsetLabels)
    {
        var result = new List<Workload>();
        if (selector is null || selector.Count == 0 || PodsIn(ns, create: false) is not { } pods)
        {
            return result;
        }

        foreach (var pod in pods)
        {
            if (pod.Matches(selector) && pod.Matches(subsetLabels))
            {
                result.Add(pod);
            }
        }

        return result;
    }

    /// <summary>The Services in <paramref name="ns"/> whose selector picks a workload with <paramref name="labels"/>.</summary>
    public IEnumerable<MeshService> ServicesSelecting(string ns, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var service in All)
        {
            if (service.IsKubernetes && service.Namespace == ns && service.Selector is { Count: > 0 } selector
                && new Workload("", ns, labels, "", "").Matches(selector))
            {
                yield return service;
            }
        }
    }

    private List<Workload>? PodsIn(string ns, bool create)
    {
        if (!_podsByNamespace.TryGetValue(ns, out var pods) && create)
        {
            pods = [];
            _podsByNamespace[ns] = pods;
        }

        return pods;
    }

    private void Add(MeshService service)
    {
        All.Add(service);
        if (!_byHost.TryGetValue(service.Hostname, out var list))
        {
            list = [];
            _byHost[service.Hostname] = list;
        }

        list.Add(service);
    }

    private static Workload? Pod(Resource resource)
    {
        var pod = ParsedSpecs.Model<V1Pod>(resource);
        var ip = pod?.Status?.PodIP ?? pod?.Status?.PodIPs?.FirstOrDefault()?.Ip;
        if (pod is null || ip is null || !string.Equals(pod.Status?.Phase, "Running", StringComparison.Ordinal))
        {
            return null;
        }

        return new Workload(resource.Name, resource.Namespace, resource.Labels, ip, pod.Spec?.ServiceAccountName ?? "default",
            resource.Annotations.TryGetValue(ProxyNode.RoleAnnotation, out var role) && role == "gateway"
                && resource.Annotations.TryGetValue(ProxyNode.WorkloadCertificateAnnotation, out var certified) && certified == "true");
    }

    private static MeshService? KubernetesService(Resource resource)
    {
        var service = ParsedSpecs.Model<V1Service>(resource);
        if (service?.Spec is not { } spec)
        {
            return null;
        }

        var ports = new List<MeshPort>();
        foreach (var port in spec.Ports ?? [])
        {
            // A named targetPort would need the pod's container ports; Meshgate's pods do not list them.
            var target = port.TargetPort?.Value is { } t && int.TryParse(t, out var number) ? number : port.Port;
            ports.Add(new MeshPort(port.Port, port.Name ?? "", PortProtocols.Parse(port.AppProtocol, port.Name), target));
        }

        resource.Annotations.TryGetValue("networking.istio.io/exportTo", out var exportTo);
        return new MeshService
        {
            Hostname = HostNames.ServiceHost(resource.Name, resource.Namespace),
            Namespace = resource.Namespace,
            ResourceName = resource.Name,
            IsKubernetes = true,
            ExportTo = ExportTo.From(exportTo?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), resource.Namespace),
            Ports = ports,
            Selector = spec.Selector is { Count: > 0 } selector ? new Dictionary<string, string>(selector, StringComparer.Ordinal) : null,
            MeshExternal = false,
        };
    }

    private static IEnumerable<MeshService> ServiceEntryHosts(Resource resource, ServiceEntrySpec spec)
    {
        var ports = new List<MeshPort>();
        foreach (var port in spec.Ports ?? [])
        {
            if (port.Number is { } number)
            {
                ports.Add(new MeshPort((int)number, port.Name ?? "", PortProtocols.Parse(port.Protocol, port.Name), (int)(port.TargetPort ?? number)));
            }
        }

        var addresses = new List<string>();
        foreach (var address in spec.Addresses ?? [])
        {
            if (IPAddress.TryParse(address, out _) && !address.Contains('/'))
            {
                addresses.Add(address);
            }
        }

        var exportTo = ExportTo.From(spec.ExportTo, resource.Namespace);
        foreach (var host in spec.Hosts ?? [])
        {
            yield return new MeshService
            {
                Hostname = host.ToLowerInvariant(),
                Namespace = resource.Namespace,
                ResourceName = resource.Name,
                IsKubernetes = false,
                ExportTo = exportTo,
                Ports = ports,
                Resolution = spec.Resolution ?? ServiceEntryResolution.None,
                MeshExternal = (spec.Location ?? ServiceEntryLocation.MeshExternal) == ServiceEntryLocation.MeshExternal,
                Endpoints = spec.Endpoints ?? [],
                Selector = spec.WorkloadSelector?.Labels,
                Addresses = addresses,
                SubjectAltNames = spec.SubjectAltNames ?? [],
            };
        }
    }
}
