using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Resources.Istio;
using Meshgate.Core.Routing;
using Meshgate.Core.Validation;

using IstioHttpRoute = Meshgate.Core.Resources.Istio.HttpRoute;
using Route = Meshgate.Core.ProxyConfiguration.Route;

namespace Meshgate.Core.Translation;

/// <summary>
/// VirtualService rules → routes and destinations for one proxy, one listener port and one gateway (<c>mesh</c> on
/// sidecars), as istio/istio <c>pilot/pkg/networking/core/route/route.go</c> <c>TranslateRoute</c>: a match is dropped
/// when its <c>gateways</c> (else the VirtualService's) do not name the gateway, its <c>port</c> is another port, or
/// its <c>sourceLabels</c>/<c>sourceNamespace</c> do not fit the proxy; a rule whose every match is dropped is dropped.
/// </summary>
internal sealed class RouteTranslator(TranslationContext context, IReadOnlyDictionary<string, Cluster> clusters)
{
    /// <summary>The routes of the VirtualService's <c>http</c> rules that apply here, in order (first match wins).</summary>
    public List<Route> HttpRoutes(BoundVirtualService vs, string gateway, int port)
    {
        var routes = new List<Route>();
        foreach (var rule in vs.Spec.Http ?? [])
        {
            if (rule.Delegate is not null)
            {
                continue; // delegate VirtualServices are not supported; see docs/translation.md
            }

            if (rule.Match is not { Count: > 0 } matches)
            {
                if (vs.Gateways.Contains(gateway))
                {
                    routes.Add(HttpRoute(vs, rule, null, port));
                }

                continue;
            }

            foreach (var match in matches)
            {
                if (Applies(vs, match.Gateways, match.Port, match.SourceLabels, match.SourceNamespace, gateway, port)
                    && RouteMatch(match) is var (routeMatch, supported) && supported)
                {
                    routes.Add(HttpRoute(vs, rule, match, port) with { Match = routeMatch });
                }
            }
        }

        // A rule the proxy cannot carry out (a status or redirect it would refuse) is left out rather than NACKed.
        routes.RemoveAll(r => r.Forward is null && r.DirectResponse is null && r.Redirect is null);

        return routes;
    }

    /// <summary>The clusters of a <c>tls</c> rule's matches that apply here: SNI names → cluster.</summary>
    public IEnumerable<(IReadOnlyList<string> SniHosts, string Cluster)> TlsRoutes(BoundVirtualService vs, string gateway, int port)
    {
        foreach (var rule in vs.Spec.Tls ?? [])
        {
            foreach (var match in rule.Match ?? [])
            {
                if (match.SniHosts is { Count: > 0 } sni
                    && Applies(vs, match.Gateways, match.Port, match.SourceLabels, match.SourceNamespace, gateway, port))
                {
                    yield return (sni, L4Cluster(vs, rule.Route, port));
                }
            }
        }
    }

    /// <summary>The cluster of the first <c>tcp</c> rule that applies here, or null.</summary>
    public string? TcpRoute(BoundVirtualService vs, string gateway, int port)
    {
        foreach (var rule in vs.Spec.Tcp ?? [])
        {
            if (rule.Match is not { Count: > 0 } matches)
            {
                if (vs.Gateways.Contains(gateway))
                {
                    return L4Cluster(vs, rule.Route, port);
                }

                continue;
            }

            foreach (var match in matches)
            {
                if (match.DestinationSubnets is not { Count: > 0 }
                    && Applies(vs, match.Gateways, match.Port, match.SourceLabels, match.SourceNamespace, gateway, port))
                {
                    return L4Cluster(vs, rule.Route, port);
                }
            }
        }

        return null;
    }

    /// <summary>
    /// The cluster a destination names: its host qualified in the VirtualService's namespace, its port (else the
    /// service's only port, else the listener's), its subset. A destination the proxy has no cluster for (not in the
    /// registry, not exported to the proxy, an unknown subset) goes to <see cref="Cluster.BlackHole"/>: Istio's Envoy
    /// answers 503 NC there, Meshgate's proxy 502; either way the traffic is dropped, never sent elsewhere.
    /// </summary>
    public string ClusterFor(Destination destination, string vsNamespace, int listenerPort)
    {
        if (destination.Host == GatewayApiBackends.InvalidHost)
        {
            return Cluster.InvalidBackend;
        }

        var host = HostNames.Qualify(destination.Host ?? "", vsNamespace);
        var service = context.Services.Find(host, context.Node.Namespace);
        var port = destination.Port?.Number is { } number ? (int)number
            : service is { Ports.Count: 1 } ? service.Ports[0].Number
            : listenerPort;
        var name = ClusterName.Outbound(port, destination.Subset ?? "", service?.Hostname ?? host);
        return clusters.ContainsKey(name) ? name : Cluster.BlackHole;
    }

    /// <summary>The default route Istio gives a service no VirtualService routes: its cluster, default retries.</summary>
    public Route DefaultRoute(string cluster) => new()
    {
        Name = "default",
        Forward = new ForwardAction { Clusters = [new WeightedCluster { Name = clusters.ContainsKey(cluster) ? cluster : Cluster.BlackHole, Weight = 100 }], Retries = RetryPolicy.IstioDefault },
    };

    private bool Applies(BoundVirtualService vs, List<string>? matchGateways, long? matchPort, Dictionary<string, string>? sourceLabels, string? sourceNamespace, string gateway, int port)
    {
        var gateways = vs.Gateways;
        if (matchGateways is { Count: > 0 })
        {
            var resolved = new List<string>(matchGateways.Count);
            foreach (var g in matchGateways)
            {
                resolved.Add(VirtualServiceIndex.GatewayKey(g, vs.Namespace));
            }

            gateways = resolved;
        }

        return gateways.Contains(gateway)
            && (matchPort is null or 0 || matchPort == port)
            && context.NodeWorkload.Matches(sourceLabels)
            && (string.IsNullOrEmpty(sourceNamespace) || sourceNamespace == context.Node.Namespace);
    }

    private Route HttpRoute(BoundVirtualService vs, IstioHttpRoute rule, HttpMatchRequest? match, int port)
    {
        // Istio names the Envoy route "<rule name>.<match name>" when both are set (route.go getRouteName).
        var name = rule.Name is { Length: > 0 } ruleName
            ? match?.Name is { Length: > 0 } matchName ? $"{ruleName}.{matchName}" : ruleName
            : null;
        if (rule.DirectResponse is { } direct)
        {
            return direct.Status is >= 200 and <= 599
                ? new Route { Name = name, DirectResponse = new DirectResponseAction { Status = (int)direct.Status.Value, Body = direct.Body?.String } }
                : new Route { Name = name };
        }

        if (rule.Redirect is { } redirect)
        {
            return Redirect(name, redirect);
        }

        var weighted = new List<WeightedCluster>();
        var destinations = rule.Route ?? [];
        foreach (var destination in destinations)
        {
            if (destination.Destination is null)
            {
                continue;
            }

            // A lone destination takes all the traffic whatever its weight (VirtualService reference: weight).
            var weight = destinations.Count == 1 ? 100 : (int)Math.Clamp(destination.Weight ?? 0, 0, 1_000_000);
            var cluster = ClusterFor(destination.Destination, vs.Namespace, port);
            var headers = RouteFeatures.Headers(destination.Headers, out _);
            var existing = weighted.FindIndex(w => w.Name == cluster && w.Headers == headers);
            if (existing >= 0)
            {
                weighted[existing] = weighted[existing] with { Weight = weighted[existing].Weight + weight };
            }
            else
            {
                weighted.Add(new WeightedCluster { Name = cluster, Weight = weight, Headers = headers });
            }
        }

        if (weighted.Count == 0)
        {
            weighted.Add(new WeightedCluster { Name = Cluster.BlackHole, Weight = 100 });
        }

        // Istio takes a Host set among the request headers as the route's authority rewrite (rewrite.authority wins).
        var routeHeaders = RouteFeatures.Headers(rule.Headers, out var hostHeader);
        var authority = rule.Rewrite?.Authority ?? hostHeader;
        return new Route
        {
            Name = name,
            Forward = new ForwardAction
            {
                Clusters = [.. weighted],
                Timeout = rule.Timeout is { } timeout && Durations.TryParse(timeout, out var t) && t > TimeSpan.Zero ? t : null,
                Retries = Retries(rule.Retries),
                HostRewrite = authority is not null && Names.CheckFqdn(HostTable.SplitPort(authority, out _).ToString()) is null ? authority : null,
                Headers = routeHeaders,
                PathRewrite = RouteFeatures.PathRewrite(rule.Rewrite, match?.Uri),
                Mirrors = Mirrors(vs, rule, port),
                Cors = RouteFeatures.Cors(rule.CorsPolicy),
            },
        };
    }

    /// <summary>
    /// <c>mirror</c> (with <c>mirrorPercentage</c>) and <c>mirrors</c> (each with its <c>percentage</c>), all when the
    /// percentage is absent; a destination the proxy has no cluster for mirrors nothing.
    /// </summary>
    private EquatableArray<MirrorPolicy> Mirrors(BoundVirtualService vs, IstioHttpRoute rule, int port)
    {
        var mirrors = new List<MirrorPolicy>();
        if (rule.Mirror is { } single)
        {
            Add(single, rule.MirrorPercentage);
        }

        foreach (var mirror in rule.Mirrors ?? [])
        {
            if (mirror.Destination is { } destination)
            {
                Add(destination, mirror.Percentage);
            }
        }

        return [.. mirrors];

        void Add(Destination destination, Percent? percentage)
        {
            var cluster = ClusterFor(destination, vs.Namespace, port);
            if (cluster is not (Cluster.BlackHole or Cluster.InvalidBackend))
            {
                mirrors.Add(new MirrorPolicy { Cluster = cluster, Percentage = percentage?.Value is { } value ? Math.Clamp(value, 0, 100) : null });
            }
        }
    }

    /// <summary>
    /// <c>redirect</c>: <c>authority</c> may carry a port (<c>host:8080</c>); a code outside 301/302/303/307/308 or an
    /// unusable host or port leaves the rule out.
    /// </summary>
    private static Route Redirect(string? name, HttpRedirect redirect)
    {
        string? host = null;
        int? port = redirect.Port is { } p ? (int)Math.Clamp(p, 0, 65536) : null;
        if (redirect.Authority is { Length: > 0 } authority)
        {
            host = HostTable.SplitPort(authority, out var authorityPort).ToString();
            if (authorityPort.Length > 0 && int.TryParse(authorityPort, out var n))
            {
                port ??= n;
            }
        }

        var status = (int)Math.Clamp(redirect.RedirectCode ?? 301, 0, 1000);
        if ((host is not null && Names.CheckFqdn(host) is not null) || port is < 1 or > 65535 || status is not (301 or 302 or 303 or 307 or 308))
        {
            return new Route { Name = name };
        }

        return new Route
        {
            Name = name,
            Redirect = new RedirectAction
            {
                Scheme = redirect.Scheme?.ToLowerInvariant() is "http" or "https" ? redirect.Scheme.ToLowerInvariant() : null,
                Host = host,
                Port = port,
                Path = redirect.Uri is { Length: > 0 } uri ? (uri.StartsWith('/') ? uri : "/" + uri) : null,
                Status = status,
            },
        };
    }

    /// <summary>
    /// VirtualService <c>retries</c>: absent → Istio's default policy; <c>attempts: 0</c> → none; <c>retryOn</c> is
    /// Envoy's comma list (status codes allowed), absent → Istio's default conditions.
    /// </summary>
    internal static RetryPolicy? Retries(HttpRetry? retries)
    {
        if (retries is null)
        {
            return RetryPolicy.IstioDefault;
        }

        if (retries.Attempts is not > 0)
        {
            return null;
        }

        var conditions = new List<RetryCondition>();
        var codes = new List<int>();
        if (string.IsNullOrWhiteSpace(retries.RetryOn))
        {
            conditions.AddRange(RetryPolicy.IstioDefault.RetryOn);
            codes.AddRange(RetryPolicy.IstioDefault.RetriableStatusCodes);
        }
        else
        {
            foreach (var part in retries.RetryOn.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                if (int.TryParse(part, out var code) && code is >= 100 and <= 599)
                {
                    codes.Add(code);
                }
                else if (Condition(part) is { } condition && !conditions.Contains(condition))
                {
                    conditions.Add(condition);
                }
            }
        }

        return new RetryPolicy
        {
            Attempts = (int)Math.Min(retries.Attempts.Value, 100),
            RetryOn = [.. conditions],
            RetriableStatusCodes = [.. codes],
            PerTryTimeout = retries.PerTryTimeout is { } perTry && Durations.TryParse(perTry, out var p) && p > TimeSpan.Zero ? p : null,
        };
    }

    private static RetryCondition? Condition(string name) => name switch
    {
        "connect-failure" => RetryCondition.ConnectFailure,
        "5xx" => RetryCondition.ServerError,
        "gateway-error" => RetryCondition.GatewayError,
        "reset" => RetryCondition.Reset,
        "refused-stream" => RetryCondition.RefusedStream,
        "retriable-4xx" => RetryCondition.Retriable4xx,
        "cancelled" => RetryCondition.Cancelled,
        "deadline-exceeded" => RetryCondition.DeadlineExceeded,
        "resource-exhausted" => RetryCondition.ResourceExhausted,
        "unavailable" => RetryCondition.Unavailable,
        _ => null, // retriable-status-codes is implied by the codes; others have no Meshgate counterpart
    };

    /// <summary>
    /// A match's conditions as a <see cref="ProxyConfiguration.RouteMatch"/>. <c>supported</c> is false when it has a
    /// condition the proxy cannot check (a regex its engine refuses): such a match is left out rather than widened.
    /// </summary>
    private static (RouteMatch? Match, bool Supported) RouteMatch(HttpMatchRequest match)
    {
        if (!AllUsable(match.QueryParams) || !UsableRegex(match.Uri) || !AllUsable(match.Headers) || !AllUsable(match.WithoutHeaders)
            || !UsableRegex(match.Method) || !UsableRegex(match.Authority) || !UsableRegex(match.Scheme)
            || (match.Uri?.Exact is { } exact && !exact.StartsWith('/')) || (match.Uri?.Prefix is { Length: > 0 } p && !p.StartsWith('/')))
        {
            return (null, false);
        }

        var headers = new List<HeaderMatch>();
        AddHeader(headers, ":method", match.Method, false);
        AddHeader(headers, ":authority", match.Authority, false);
        AddHeader(headers, ":scheme", match.Scheme, false);
        foreach (var (name, value) in Sorted(match.Headers))
        {
            AddHeader(headers, name.ToLowerInvariant(), value, false);
        }

        foreach (var (name, value) in Sorted(match.WithoutHeaders))
        {
            AddHeader(headers, name.ToLowerInvariant(), value, true);
        }

        var queryParams = new List<HeaderMatch>();
        foreach (var (name, value) in Sorted(match.QueryParams))
        {
            AddHeader(queryParams, name, value, false);
        }

        var uri = match.Uri;
        var ignoreCase = match.IgnoreUriCase == true;
        if (uri?.Exact is null && uri?.Prefix is null && uri?.Regex is null && headers.Count == 0 && queryParams.Count == 0)
        {
            return (null, true);
        }

        return (new RouteMatch
        {
            Exact = uri?.Exact,
            Prefix = uri?.Prefix is { Length: > 0 } prefix ? prefix : null,
            Regex = uri?.Regex,
            IgnoreCase = ignoreCase,
            Headers = [.. headers],
            QueryParams = [.. queryParams],
        }, true);
    }

    /// <summary>A regex the proxy's engine (linear-time, RE2-like) takes; Istio's RE2 may take more.</summary>
    private static bool UsableRegex(StringMatch? match) => match?.Regex is not { } regex || RouteRegex.Check(regex) is null;

    private static bool AllUsable(Dictionary<string, StringMatch>? map)
    {
        foreach (var (name, value) in map ?? [])
        {
            if (name.Length == 0 || !UsableRegex(value))
            {
                return false;
            }
        }

        return true;
    }

    private static IEnumerable<KeyValuePair<string, StringMatch>> Sorted(Dictionary<string, StringMatch>? map) =>
        map is null ? [] : map.OrderBy(e => e.Key, StringComparer.Ordinal);

    private static void AddHeader(List<HeaderMatch> headers, string name, StringMatch? value, bool invert)
    {
        if (value is null)
        {
            return;
        }

        headers.Add(value switch
        {
            { Exact: { } exact } => new HeaderMatch { Name = name, Exact = exact, Invert = invert },
            { Prefix: { } prefix } => new HeaderMatch { Name = name, Prefix = prefix, Invert = invert },
            { Regex: { } regex } => new HeaderMatch { Name = name, Regex = regex, Invert = invert },
            _ => new HeaderMatch { Name = name, Present = true, Invert = invert }, // {} means "present" (VirtualService reference)
        });
    }

    /// <summary>An L4 rule's destination: the heaviest (first on a tie); a filter chain has one cluster.</summary>
    private string L4Cluster(BoundVirtualService vs, List<RouteDestination>? route, int port)
    {
        RouteDestination? best = null;
        foreach (var destination in route ?? [])
        {
            if (destination.Destination is not null && (best is null || (destination.Weight ?? 0) > (best.Weight ?? 0)))
            {
                best = destination;
            }
        }

        return best?.Destination is { } d ? ClusterFor(d, vs.Namespace, port) : Cluster.BlackHole;
    }
}
