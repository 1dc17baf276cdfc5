using System.Globalization;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Translation;
using static Meshgate.Core.GatewayStatus.GatewayApiConditions;

namespace Meshgate.Core.GatewayStatus;

/// <summary>
/// The <c>status</c> Istio's gateway controller writes on Gateway API objects, computed from one store snapshot and the
/// proxies' sync state (pure: the same inputs give the same statuses):
/// GatewayClasses of controller <c>istio.io/gateway-controller</c> are Accepted; Gateways of such a class (or of class
/// <c>istio</c>) get Accepted, Programmed, their address and one entry per listener with its attached routes; HTTPRoutes
/// TLSRoutes and TCPRoutes get one <c>parents</c> entry per parentRef of ours, Accepted and ResolvedRefs. Entries other controllers
/// wrote on a route are kept. Conditions keep their <c>lastTransitionTime</c> while their status holds, so a status
/// recomputed unchanged equals the stored one and is not returned.
/// </summary>
public static class GatewayApiStatusCalculator
{
    private const string GatewayGroup = ResourceTypes.GatewayApiGroup;
    private const string IstioGroup = ResourceTypes.IstioNetworking;

    /// <param name="configurationRevision">
    /// The store revision a Gateway's proxies must run for it to be Programmed: the revision its current configuration
    /// was stored at (status writes bump <c>resourceVersion</c> but not the configuration).
    /// </param>
    /// <returns>The objects whose status changes, each as stored with its new status.</returns>
    public static IReadOnlyList<Resource> Updates(ResourceSet resources, IReadOnlyList<ProxySyncState> proxies, Func<Resource, long> configurationRevision, DateTimeOffset now)
    {
        var time = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var updates = new List<Resource>();
        var classes = OurClasses(resources, updates, time);
        var registry = Registry.For(resources);
        var grants = new ReferenceGrantIndex(registry);

        var gateways = new Dictionary<ObjectKey, GatewayState>();
        foreach (var gateway in resources.List(ResourceTypes.KubernetesGateway))
        {
            if (ParsedSpecs.Spec<GatewayApiGatewaySpec>(gateway) is { } spec && spec.GatewayClassName is { } className && classes.Contains(className))
            {
                gateways[gateway.Key] = new GatewayState(gateway, spec, ListenerEvaluation.Evaluate(gateway, spec, resources, grants));
            }
        }

        // Routes first: binding them counts each listener's attached routes.
        var backends = new BackendResolution(new GatewayApiBackends(registry));
        var routeUpdates = new List<Resource>();
        foreach (var route in resources.List(ResourceTypes.HttpRoute))
        {
            if (ParsedSpecs.Spec<HttpRouteSpec>(route) is { } spec)
            {
                var refs = new List<BackendRefView>();
                foreach (var rule in spec.Rules ?? [])
                {
                    foreach (var b in rule.BackendRefs ?? [])
                    {
                        refs.Add(new BackendRefView(b.Group, b.Kind, b.Name, b.Namespace, b.Weight));
                    }
                }

                AddIfChanged(routeUpdates, route, RouteStatus(route, spec.ParentRefs ?? [], spec.Hostnames ?? [], refs, resources, gateways, backends, time));
            }
        }

        foreach (var route in resources.List(ResourceTypes.TlsRoute))
        {
            if (ParsedSpecs.Spec<TlsRouteSpec>(route) is { } spec)
            {
                var refs = new List<BackendRefView>();
                foreach (var rule in spec.Rules ?? [])
                {
                    foreach (var b in rule.BackendRefs ?? [])
                    {
                        refs.Add(new BackendRefView(b.Group, b.Kind, b.Name, b.Namespace, b.Weight));
                    }
                }

                AddIfChanged(routeUpdates, route, RouteStatus(route, spec.ParentRefs ?? [], spec.Hostnames ?? [], refs, resources, gateways, backends, time));
            }
        }

        foreach (var route in resources.List(ResourceTypes.TcpRoute))
        {
            if (ParsedSpecs.Spec<TcpRouteSpec>(route) is { } spec)
            {
                var refs = new List<BackendRefView>();
                foreach (var rule in spec.Rules ?? [])
                {
                    foreach (var b in rule.BackendRefs ?? [])
                    {
                        refs.Add(new BackendRefView(b.Group, b.Kind, b.Name, b.Namespace, b.Weight));
                    }
                }

                AddIfChanged(routeUpdates, route, RouteStatus(route, spec.ParentRefs ?? [], [], refs, resources, gateways, backends, time));
            }
        }

        var proxyIndex = new Dictionary<(string Namespace, string Name), ProxySyncState>();
        foreach (var proxy in proxies)
        {
            proxyIndex[(proxy.Namespace, proxy.Name)] = proxy;
        }

        var pods = resources.List(ResourceTypes.Pod);
        foreach (var state in gateways.Values.OrderBy(s => s.Gateway.Namespace, StringComparer.Ordinal).ThenBy(s => s.Gateway.Name, StringComparer.Ordinal))
        {
            var gatewayPods = GatewayProgramming.PodsOf(state.Gateway, pods);
            AddIfChanged(updates, state.Gateway, GatewayStatus(state, resources, configurationRevision(state.Gateway), gatewayPods, proxyIndex, time));
        }

        updates.AddRange(routeUpdates);
        return updates;
    }

    /// <summary>The class names whose Gateways are ours; writes each such GatewayClass's Accepted condition.</summary>
    private static HashSet<string> OurClasses(ResourceSet resources, List<Resource> updates, string time)
    {
        var ours = new HashSet<string>(StringComparer.Ordinal);
        var defaultClassTaken = false;
        foreach (var gatewayClass in resources.List(ResourceTypes.GatewayClass))
        {
            defaultClassTaken |= gatewayClass.Name == DefaultClassName;
            if (ParsedSpecs.Spec<GatewayClassSpec>(gatewayClass)?.ControllerName != ControllerName)
            {
                continue;
            }

            ours.Add(gatewayClass.Name);
            var conditions = ConditionList.Write(
                gatewayClass.Json["status"]?["conditions"] as JsonArray,
                [StatusCondition.True(Accepted, ReasonAccepted, "Handled by Istio controller")],
                Generation(gatewayClass), time);
            AddIfChanged(updates, gatewayClass, new JsonObject { ["conditions"] = conditions });
        }

        if (!defaultClassTaken)
        {
            ours.Add(DefaultClassName); // installed by default; its Gateways are deployed before it is
        }

        return ours;
    }

    private static JsonObject GatewayStatus(
        GatewayState state,
        ResourceSet resources,
        long configurationRevision,
        IReadOnlyList<Resource> pods,
        IReadOnlyDictionary<(string Namespace, string Name), ProxySyncState> proxies,
        string time)
    {
        var gateway = state.Gateway;
        var generation = Generation(gateway);
        var existing = gateway.Json["status"] as JsonObject;
        var workload = GatewayProgramming.WorkloadName(gateway.Name);
        var host = HostNames.ServiceHost(workload, gateway.Namespace);
        var service = resources.Get(new ObjectKey(ResourceTypes.Service, gateway.Namespace, workload));

        var accepted = ParametersError(gateway, state.Spec, resources) is { } error
            ? StatusCondition.False(Accepted, ReasonInvalidParameters, error)
            : StatusCondition.True(Accepted, ReasonAccepted, "Resource accepted");
        var programmed = GatewayProgramming.Judge(gateway, configurationRevision, pods, proxies, ServiceAddresses(host, service, state.Spec));

        var listeners = new JsonArray();
        foreach (var listener in state.Listeners)
        {
            var kinds = new JsonArray();
            foreach (var (group, kind) in listener.SupportedKinds)
            {
                kinds.Add(new JsonObject { ["group"] = group, ["kind"] = kind });
            }

            listeners.Add(new JsonObject
            {
                ["attachedRoutes"] = state.Attached[listener.Index].Count,
                ["conditions"] = ConditionList.Write(ExistingListener(existing, listener.Name)?["conditions"] as JsonArray, listener.Conditions, generation, time),
                ["name"] = listener.Name,
                ["supportedKinds"] = kinds,
            });
        }

        var status = new JsonObject();
        if (service is not null)
        {
            // The Service gets no cluster IP on a local mesh: its name is the address (Istio reports Hostname addresses so).
            status["addresses"] = new JsonArray(new JsonObject { ["type"] = "Hostname", ["value"] = host });
        }

        status["conditions"] = ConditionList.Write(existing?["conditions"] as JsonArray, [accepted, programmed], generation, time);
        status["listeners"] = listeners;
        return status;
    }

    /// <summary><c>name-istio.ns.svc.cluster.local:port</c> per port of the gateway's Service (its listeners' ports until it exists).</summary>
    private static string ServiceAddresses(string host, Resource? service, GatewayApiGatewaySpec spec)
    {
        var ports = new SortedSet<long>();
        if (service?.Json["spec"]?["ports"] is JsonArray servicePorts)
        {
            foreach (var port in servicePorts)
            {
                if (port?["port"] is JsonValue number && number.TryGetValue<long>(out var value))
                {
                    ports.Add(value);
                }
            }
        }
        else
        {
            foreach (var listener in spec.Listeners ?? [])
            {
                if (listener.Port is { } port)
                {
                    ports.Add(port);
                }
            }
        }

        return GatewayProgramming.HumanReadableJoin([.. ports.Select(p => $"{host}:{p.ToString(CultureInfo.InvariantCulture)}")]);
    }

    /// <summary>
    /// <c>spec.infrastructure.parametersRef</c>: Istio reads a ConfigMap in the Gateway's namespace; any other kind, or
    /// a ConfigMap that does not exist, leaves the Gateway not Accepted (InvalidParameters).
    /// </summary>
    private static string? ParametersError(Resource gateway, GatewayApiGatewaySpec spec, ResourceSet resources)
    {
        if (spec.Infrastructure?.ParametersRef is not { } parameters)
        {
            return null;
        }

        if ((parameters.Group ?? "") is not ("" or "core") || parameters.Kind != "ConfigMap")
        {
            return $"spec.infrastructure.parametersRef: kind {parameters.Kind} (group \"{parameters.Group}\") is not supported; refer to a ConfigMap";
        }

        return resources.Get(new ObjectKey(ResourceTypes.ConfigMap, gateway.Namespace, parameters.Name ?? "")) is null
            ? $"spec.infrastructure.parametersRef: ConfigMap {gateway.Namespace}/{parameters.Name} not found"
            : null;
    }

    private static JsonObject? ExistingListener(JsonObject? status, string name)
    {
        foreach (var node in status?["listeners"] as JsonArray ?? [])
        {
            if (node is JsonObject listener && listener["name"] is JsonValue value && value.TryGetValue<string>(out var n) && n == name)
            {
                return listener;
            }
        }

        return null;
    }

    /// <summary>The route's status: other controllers' parents entries kept, then ours, one per distinct parentRef of ours.</summary>
    private static JsonObject? RouteStatus(
        Resource route,
        List<ParentReference> parents,
        List<string> hostnames,
        List<BackendRefView> backendRefs,
        ResourceSet resources,
        Dictionary<ObjectKey, GatewayState> gateways,
        BackendResolution backends,
        string time)
    {
        var existing = route.Json["status"]?["parents"] as JsonArray;
        var written = new JsonArray();
        foreach (var node in existing ?? [])
        {
            if (node is JsonObject entry && entry["controllerName"]?.GetValue<string>() != ControllerName)
            {
                written.Add(entry.DeepClone());
            }
        }

        var generation = Generation(route);
        var refsJson = route.Json["spec"]?["parentRefs"] as JsonArray;
        var seen = new List<JsonNode>();
        StatusCondition? resolved = null;
        for (var i = 0; i < parents.Count; i++)
        {
            var refJson = refsJson?[i] ?? new JsonObject();
            if (Verdicts(route, parents[i], hostnames, resources, gateways) is not { } verdicts || seen.Any(s => JsonNode.DeepEquals(s, refJson)))
            {
                continue;
            }

            seen.Add(refJson);
            resolved ??= backends.Resolve(route, backendRefs);
            written.Add(new JsonObject
            {
                ["conditions"] = ConditionList.Write(ExistingParent(existing, refJson)?["conditions"] as JsonArray, [RouteParentBinding.Accepted(verdicts), resolved], generation, time),
                ["controllerName"] = ControllerName,
                ["parentRef"] = refJson.DeepClone(),
            });
        }

        // Nothing to say and nothing said before: leave the route without a status.
        return written.Count == 0 && route.Json["status"] is null ? null : new JsonObject { ["parents"] = written };
    }

    /// <summary>
    /// The verdict of each listener the parentRef could bind to (one for a ServiceEntry or Service parent), recording
    /// the bindings on the Gateway's listeners; null when the parent is not ours (another controller's Gateway, or a
    /// kind Istio does not take).
    /// </summary>
    private static List<ParentVerdict>? Verdicts(Resource route, ParentReference parent, List<string> hostnames, ResourceSet resources, Dictionary<ObjectKey, GatewayState> gateways)
    {
        var ns = parent.Namespace ?? route.Namespace;
        var name = parent.Name ?? "";
        var group = parent.Group ?? (parent.Kind == "Service" ? "" : GatewayGroup);
        var routeKind = route.Type.Kind;
        switch (group, parent.Kind ?? "Gateway")
        {
            case (GatewayGroup, "Gateway"):
                var key = new ObjectKey(ResourceTypes.KubernetesGateway, ns, name);
                if (!gateways.TryGetValue(key, out var state))
                {
                    return resources.Get(key) is null
                        ? [new ParentVerdict(ReasonNoMatchingParent, $"parent gateway \"{name}\" not found in namespace \"{ns}\"")]
                        : null;
                }

                var kindText = $"{route.ApiVersion}, Kind={routeKind}";
                var verdicts = new List<ParentVerdict>();
                foreach (var listener in state.Listeners)
                {
                    var verdict = RouteParentBinding.Judge(listener, parent, hostnames, route.Namespace, GatewayGroup, routeKind, kindText);
                    if (verdict.IsBound)
                    {
                        state.Attached[listener.Index].Add(route.Key);
                    }

                    verdicts.Add(verdict);
                }

                return verdicts;
            case (IstioGroup, "ServiceEntry"):
                return [MeshParent(resources.Get(new ObjectKey(ResourceTypes.ServiceEntry, ns, name)) is not null, routeKind, $"parent service entry: \"{name}\" not found")];
            case ("" or "core", "Service"):
                return [MeshParent(resources.Get(new ObjectKey(ResourceTypes.Service, ns, name)) is not null, routeKind, $"parent service: \"{name}\" not found")];
            default:
                return null;
        }
    }

    private static ParentVerdict MeshParent(bool exists, string routeKind, string notFound) =>
        !exists ? new ParentVerdict(ReasonNoMatchingParent, notFound)
        : ListenerEvaluation.MeshAllows(routeKind) ? ParentVerdict.Bound
        : new ParentVerdict(ReasonNotAllowedByListeners, $"kind {routeKind} is not allowed");

    private static JsonObject? ExistingParent(JsonArray? parents, JsonNode parentRef)
    {
        foreach (var node in parents ?? [])
        {
            if (node is JsonObject entry && entry["controllerName"]?.GetValue<string>() == ControllerName && JsonNode.DeepEquals(entry["parentRef"], parentRef))
            {
                return entry;
            }
        }

        return null;
    }

    private static long Generation(Resource resource) => resource.Metadata["generation"] switch
    {
        JsonValue value when value.TryGetValue<long>(out var generation) => generation,
        JsonValue value when value.TryGetValue<int>(out var generation) => generation,
        _ => 1,
    };

    /// <summary>Adds the object with <paramref name="status"/> when that differs from the stored status.</summary>
    private static void AddIfChanged(List<Resource> updates, Resource current, JsonObject? status)
    {
        if (status is null)
        {
            return;
        }

        // Re-read, so numbers compare as the stored (parsed) ones do.
        var normalized = JsonNode.Parse(status.ToJsonString())!;
        if (JsonNode.DeepEquals(current.Json["status"], normalized))
        {
            return;
        }

        var json = (JsonObject)current.Json.DeepClone();
        json["status"] = normalized;
        updates.Add(current.WithSameSpec(json));
    }
}
