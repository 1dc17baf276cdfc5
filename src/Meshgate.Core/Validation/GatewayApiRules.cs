using System.Text.RegularExpressions;

using Meshgate.Core.Resources.GatewayApi;
using Meshgate.Core.Translation;

namespace Meshgate.Core.Validation;

/// <summary>
/// Gateway API's rules (the CRDs' OpenAPI and CEL validations) and Istio's additions for egress:
/// ServiceEntry parents and <c>Hostname</c> backends (pilot/pkg/config/kube/gateway/conversion.go).
/// </summary>
internal static partial class GatewayApiRules
{
    /// <summary>Gateway API's core listener protocols (<c>ProtocolType</c>); implementations may define prefixed ones.</summary>
    private static readonly string[] ListenerProtocols = ["HTTP", "HTTPS", "TLS", "TCP", "UDP"];
    private static readonly string[] PathTypes = ["Exact", "PathPrefix", "RegularExpression"];
    private static readonly string[] HeaderMatchTypes = ["Exact", "RegularExpression"];
    private static readonly string[] Methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];
    private static readonly string[] FilterTypes = ["RequestHeaderModifier", "ResponseHeaderModifier", "RequestMirror", "RequestRedirect", "URLRewrite", "ExtensionRef", "CORS"];
    private static readonly string[] ParentKinds = ["Gateway", "Service", "ServiceEntry", "ListenerSet"];

    public static void Gateway(GatewayApiGatewaySpec spec, RuleContext c)
    {
        if (spec.GatewayClassName is "")
        {
            c.Error("spec.gatewayClassName", "must not be empty; Meshgate deploys class \"istio\"");
        }

        var listeners = spec.Listeners ?? [];
        if (c.NonEmpty("spec.listeners", listeners, "listener") && listeners.Count > 64)
        {
            c.Error("spec.listeners", $"{listeners.Count} listeners is more than the limit of 64");
        }

        c.Unique("spec.listeners", listeners, l => l.Name, "listener name");
        c.Unique("spec.listeners", listeners, l => $"{l.Port}/{l.Protocol}/{l.Hostname}", "port, protocol and hostname combination");
        for (var i = 0; i < listeners.Count; i++)
        {
            var path = FieldPath.Index("spec.listeners", i);
            var listener = listeners[i];
            if (listener.Name is { } name)
            {
                c.Check(path + ".name", Names.CheckDns1123Subdomain(name));
            }

            c.Port(path + ".port", listener.Port);
            if (listener.Hostname is { } hostname)
            {
                c.Check(path + ".hostname", Hostname(hostname));
            }

            var protocol = listener.Protocol ?? "";
            if (listener.Protocol is not null)
            {
                ListenerProtocol(path + ".protocol", listener.Protocol, c);
            }

            var tls = listener.Tls;
            var mode = tls?.Mode ?? "Terminate";
            if (tls?.Mode is { } m && m is not ("Terminate" or "Passthrough"))
            {
                c.Error(path + ".tls.mode", RuleContext.NotOneOf(m, ["Terminate", "Passthrough"]));
            }

            switch (protocol)
            {
                case "HTTPS" when tls is null:
                    c.Error(path + ".tls", "an HTTPS listener needs tls with certificateRefs (mode Terminate)");
                    break;
                case "HTTPS" when mode == "Passthrough":
                    c.Error(path + ".tls.mode", "Passthrough is not allowed with protocol HTTPS; use protocol TLS to route by SNI without terminating");
                    break;
                case "TLS" when tls is null:
                    c.Error(path + ".tls", "a TLS listener needs tls.mode: Passthrough (route by SNI) or Terminate");
                    break;
                case "HTTP" or "TCP" or "UDP" when tls is not null:
                    c.Error(path + ".tls", $"tls must not be set for protocol {protocol}");
                    break;
            }

            if (tls is not null && mode == "Terminate" && tls.CertificateRefs is not { Count: > 0 } && tls.Options is not { Count: > 0 } && protocol is "HTTPS" or "TLS")
            {
                c.Error(path + ".tls.certificateRefs", "mode Terminate needs certificateRefs (or options such as gateway.istio.io/tls-terminate-mode: ISTIO_MUTUAL)");
            }

            if (listener.AllowedRoutes?.Namespaces is { } namespaces)
            {
                var from = namespaces.From ?? "Same";
                if (from is not ("All" or "Same" or "Selector"))
                {
                    c.Error(path + ".allowedRoutes.namespaces.from", RuleContext.NotOneOf(from, ["All", "Same", "Selector"]));
                }
                else if (from == "Selector" && namespaces.Selector is null)
                {
                    c.Error(path + ".allowedRoutes.namespaces.selector", "from: Selector needs a selector");
                }
            }
        }

        for (var i = 0; i < (spec.Addresses?.Count ?? 0); i++)
        {
            var address = spec.Addresses![i];
            if (address.Type is null or "IPAddress" && address.Value is { } value && !Names.IsIpAddress(value))
            {
                c.Error(FieldPath.Index("spec.addresses", i) + ".value", $"\"{value}\" is not an IP address");
            }
        }
    }

    /// <summary>
    /// Gateway API accepts any protocol its pattern allows, and an implementation that lacks one marks the listener
    /// Accepted False (UnsupportedProtocol) instead of refusing the Gateway; apply does the same, with a warning.
    /// </summary>
    private static void ListenerProtocol(string path, string protocol, RuleContext c)
    {
        if (protocol.Length is 0 or > 255 || !ProtocolPattern().IsMatch(protocol))
        {
            var suggestion = SchemaValidator.Suggest(protocol.ToUpperInvariant(), ListenerProtocols);
            c.Error(path, $"\"{protocol}\" is not a valid listener protocol: use one of {string.Join(", ", ListenerProtocols)}, or a domain-prefixed name "
                + "such as example.com/my-protocol (Gateway API ProtocolType: a name of letters, digits and inner '-', or DOMAIN/NAME; at most 255 characters)"
                + (suggestion is null ? "" : $"; did you mean {suggestion}?"));
        }
        else if (!GatewayApiLowering.Implements(protocol))
        {
            var upper = protocol.ToUpperInvariant();
            c.Warning(path, $"Meshgate does not implement protocol \"{protocol}\" (it serves {string.Join(", ", GatewayApiLowering.ImplementedProtocols)}): "
                + "the Gateway is stored, but this listener is not programmed (its status says Accepted False, reason UnsupportedProtocol)"
                + (GatewayApiLowering.Implements(upper) ? $"; protocol names are upper-case: did you mean {upper}?" : ""));
        }
    }

    /// <summary>
    /// Gateway API's <c>ProtocolType</c> pattern: a core name (alphanumeric, '-' inside) or <c>DOMAIN/NAME</c>. The CRD
    /// leaves the second alternative unanchored at the start; it is anchored here, as its own examples read it.
    /// </summary>
    [GeneratedRegex(@"^(?:[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/[A-Za-z0-9]+)\z")]
    private static partial Regex ProtocolPattern();

    public static void HttpRoute(HttpRouteSpec spec, RuleContext c)
    {
        ParentRefs(spec.ParentRefs, c);
        Hostnames(spec.Hostnames, c);
        var rules = spec.Rules ?? [];
        if (rules.Count > 16)
        {
            c.Error("spec.rules", $"{rules.Count} rules is more than the limit of 16");
        }

        for (var i = 0; i < rules.Count; i++)
        {
            var path = FieldPath.Index("spec.rules", i);
            var rule = rules[i];
            for (var m = 0; m < (rule.Matches?.Count ?? 0); m++)
            {
                var match = rule.Matches![m];
                var mpath = FieldPath.Index(path + ".matches", m);
                if (match.Path is { } p)
                {
                    var type = p.Type ?? "PathPrefix";
                    if (!PathTypes.Contains(type))
                    {
                        c.Error(mpath + ".path.type", RuleContext.NotOneOf(type, PathTypes));
                    }
                    else if (type == "RegularExpression")
                    {
                        c.Regex(mpath + ".path.value", p.Value);
                    }
                    else if (p.Value is { } value && !value.StartsWith('/'))
                    {
                        c.Error(mpath + ".path.value", $"\"{value}\" must be an absolute path starting with '/'");
                    }
                }

                HeaderMatches(match.Headers, mpath + ".headers", c);
                HeaderMatches(match.QueryParams, mpath + ".queryParams", c);
                if (match.Method is { } method && !Methods.Contains(method))
                {
                    c.Error(mpath + ".method", RuleContext.NotOneOf(method, Methods));
                }
            }

            Filters(rule.Filters, path + ".filters", c);
            for (var b = 0; b < (rule.BackendRefs?.Count ?? 0); b++)
            {
                var backend = rule.BackendRefs![b];
                var bpath = FieldPath.Index(path + ".backendRefs", b);
                Backend(backend.Group, backend.Kind, backend.Namespace, backend.Name, backend.Port, backend.Weight, bpath, c);
                Filters(backend.Filters, bpath + ".filters", c);
            }

            if (rule.Timeouts is { } timeouts)
            {
                GatewayDuration(path + ".timeouts.request", timeouts.Request, c);
                GatewayDuration(path + ".timeouts.backendRequest", timeouts.BackendRequest, c);
            }
        }
    }

    public static void TlsRoute(TlsRouteSpec spec, RuleContext c)
    {
        ParentRefs(spec.ParentRefs, c);
        Hostnames(spec.Hostnames, c);
        var rules = spec.Rules ?? [];
        if (c.NonEmpty("spec.rules", rules, "rule") && rules.Count > 16)
        {
            c.Error("spec.rules", $"{rules.Count} rules is more than the limit of 16");
        }

        for (var i = 0; i < rules.Count; i++)
        {
            var path = FieldPath.Index("spec.rules", i);
            var backends = rules[i].BackendRefs ?? [];
            c.NonEmpty(path + ".backendRefs", backends, "backendRef");
            for (var b = 0; b < backends.Count; b++)
            {
                var backend = backends[b];
                Backend(backend.Group, backend.Kind, backend.Namespace, backend.Name, backend.Port, backend.Weight, FieldPath.Index(path + ".backendRefs", b), c);
            }
        }
    }

    public static void TcpRoute(TcpRouteSpec spec, RuleContext c)
    {
        ParentRefs(spec.ParentRefs, c);
        var rules = spec.Rules ?? [];
        if (c.NonEmpty("spec.rules", rules, "rule") && rules.Count > 16)
        {
            c.Error("spec.rules", $"{rules.Count} rules is more than the limit of 16");
        }

        for (var i = 0; i < rules.Count; i++)
        {
            var path = FieldPath.Index("spec.rules", i);
            var backends = rules[i].BackendRefs ?? [];
            c.NonEmpty(path + ".backendRefs", backends, "backendRef");
            for (var b = 0; b < backends.Count; b++)
            {
                var backend = backends[b];
                Backend(backend.Group, backend.Kind, backend.Namespace, backend.Name, backend.Port, backend.Weight, FieldPath.Index(path + ".backendRefs", b), c);
            }
        }
    }

    public static void GatewayClass(GatewayClassSpec spec, RuleContext c)
    {
        if (spec.ControllerName is { } controller)
        {
            var slash = controller.IndexOf('/');
            if (slash <= 0 || slash == controller.Length - 1 || Names.CheckDns1123Subdomain(controller[..slash]) is not null)
            {
                c.Error("spec.controllerName", $"\"{controller}\" must be a domain-prefixed path such as istio.io/gateway-controller");
            }
        }
    }

    private static void ParentRefs(List<ParentReference>? parents, RuleContext c)
    {
        if (parents is null)
        {
            return;
        }

        if (parents.Count > 32)
        {
            c.Error("spec.parentRefs", $"{parents.Count} parentRefs is more than the limit of 32");
        }

        for (var i = 0; i < parents.Count; i++)
        {
            var path = FieldPath.Index("spec.parentRefs", i);
            var parent = parents[i];
            var kind = parent.Kind ?? "Gateway";
            var group = parent.Group ?? (kind == "Service" ? "" : "gateway.networking.k8s.io");
            if (!ParentKinds.Contains(kind))
            {
                c.Error(path + ".kind", $"\"{kind}\" is not a parent kind; use Gateway, Service or ServiceEntry");
            }
            else if (kind == "ServiceEntry" && group != "networking.istio.io")
            {
                c.Error(path + ".group", "a ServiceEntry parent needs group: networking.istio.io");
            }
            else if (kind == "Gateway" && group != "gateway.networking.k8s.io")
            {
                c.Error(path + ".group", $"group \"{group}\" has no Gateway parent; use gateway.networking.k8s.io (or omit it)");
            }

            if (parent.Name is { } name)
            {
                c.Check(path + ".name", Names.CheckDns1123Subdomain(name));
            }

            if (parent.Namespace is { } ns)
            {
                c.Check(path + ".namespace", Names.CheckDns1123Label(ns));
            }

            c.Port(path + ".port", parent.Port);
        }
    }

    private static void Hostnames(List<string>? hostnames, RuleContext c)
    {
        for (var i = 0; i < (hostnames?.Count ?? 0); i++)
        {
            c.Check(FieldPath.Index("spec.hostnames", i), Hostname(hostnames![i]));
        }
    }

    /// <summary>Gateway API hostnames: DNS names with an optional leading <c>*.</c>; no IPs, no bare <c>*</c>.</summary>
    private static string? Hostname(string hostname)
    {
        if (Names.IsIpAddress(hostname))
        {
            return $"\"{hostname}\" is an IP address; hostnames must be DNS names";
        }

        if (hostname == "*")
        {
            return "\"*\" is not a hostname; omit the field to match every host";
        }

        return Names.CheckWildcardHost(hostname);
    }

    private static void Backend(string? group, string? kind, string? ns, string? name, long? port, long? weight, string path, RuleContext c)
    {
        kind ??= "Service";
        group ??= "";
        c.Port(path + ".port", port);
        c.Range(path + ".weight", weight, 0, 1_000_000, "weight");
        switch (kind)
        {
            case "Service" when group.Length == 0:
                if (port is null)
                {
                    c.Error(path + ".port", "port is required when the backend is a Service");
                }

                if (name is not null)
                {
                    c.Check(path + ".name", Names.CheckDns1035Label(name));
                }

                break;
            case "Hostname":
                if (group != "networking.istio.io")
                {
                    c.Error(path + ".group", "a Hostname backend needs group: networking.istio.io");
                }

                if (ns is not null)
                {
                    c.Error(path + ".namespace", "namespace may not be set with Hostname type; the host is found in the ServiceEntry registry");
                }

                if (name is not null)
                {
                    c.Check(path + ".name", Names.CheckWildcardHost(name));
                }

                if (port is null)
                {
                    c.Error(path + ".port", "port is required when the backend is a Hostname");
                }

                break;
            case "ServiceEntry" when group == "networking.istio.io":
                break;
            default:
                c.Error(path + ".kind", $"backend kind \"{kind}\" (group \"{group}\") is not supported; use Service, or Hostname/ServiceEntry in group networking.istio.io");
                break;
        }
    }

    private static void HeaderMatches(List<HttpHeaderMatch>? matches, string path, RuleContext c)
    {
        for (var i = 0; i < (matches?.Count ?? 0); i++)
        {
            var match = matches![i];
            var hpath = FieldPath.Index(path, i);
            var type = match.Type ?? "Exact";
            if (!HeaderMatchTypes.Contains(type))
            {
                c.Error(hpath + ".type", RuleContext.NotOneOf(type, HeaderMatchTypes));
            }
            else if (type == "RegularExpression")
            {
                c.Regex(hpath + ".value", match.Value);
            }
        }

        c.Unique(path, matches ?? [], m => m.Name?.ToLowerInvariant(), "header name");
    }

    private static void Filters(List<HttpRouteFilter>? filters, string path, RuleContext c)
    {
        for (var i = 0; i < (filters?.Count ?? 0); i++)
        {
            var filter = filters![i];
            var fpath = FieldPath.Index(path, i);
            if (filter.Type is { } type && !FilterTypes.Contains(type))
            {
                c.Error(fpath + ".type", RuleContext.NotOneOf(type, FilterTypes));
                continue;
            }

            var present = filter.Type switch
            {
                "RequestHeaderModifier" => filter.RequestHeaderModifier is not null,
                "ResponseHeaderModifier" => filter.ResponseHeaderModifier is not null,
                "RequestMirror" => filter.RequestMirror is not null,
                "RequestRedirect" => filter.RequestRedirect is not null,
                "URLRewrite" => filter.UrlRewrite is not null,
                "ExtensionRef" => filter.ExtensionRef is not null,
                "CORS" => filter.Cors is not null,
                _ => true,
            };
            if (!present)
            {
                var field = filter.Type == "URLRewrite" ? "urlRewrite" : char.ToLowerInvariant(filter.Type![0]) + filter.Type[1..];
                c.Error(fpath + "." + field, $"filter type {filter.Type} needs its {field} field");
            }
        }
    }

    /// <summary>Gateway API durations (GEP-2257): up to four number+unit pairs of h, m, s, ms, e.g. 1h30m, 500ms.</summary>
    private static void GatewayDuration(string path, string? value, RuleContext c)
    {
        if (value is null)
        {
            return;
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(value, "^([0-9]{1,5}(h|m|s|ms)){1,4}$"))
        {
            c.Error(path, $"\"{value}\" is not a Gateway API duration; write up to four number+unit pairs with units h, m, s or ms, for example 3s or 1m30s");
        }
    }
}
