using Meshgate.Core.Resources.Istio;

namespace Meshgate.Core.Validation;

/// <summary>
/// Istio's webhook rules for networking.istio.io (pkg/config/validation/validation.go and
/// virtualservice.go, plus the CEL rules of the CRDs), with messages that say how to fix the input.
/// </summary>
internal static class IstioRules
{
    private static readonly HashSet<string> Protocols = new(StringComparer.OrdinalIgnoreCase)
    {
        "HTTP", "HTTPS", "GRPC", "GRPC-WEB", "HTTP2", "MONGO", "MYSQL", "REDIS", "TCP", "TLS", "UDP", "HTTP_PROXY",
    };

    private const string ProtocolList = "HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, MYSQL, REDIS, TCP, TLS, UDP";

    public static void ServiceEntry(ServiceEntrySpec spec, RuleContext c)
    {
        var hosts = spec.Hosts ?? [];
        if (c.NonEmpty("spec.hosts", hosts, "host"))
        {
            for (var i = 0; i < hosts.Count; i++)
            {
                var path = FieldPath.Index("spec.hosts", i);
                if (hosts[i] == "*")
                {
                    c.Error(path, "hostname cannot be wildcard \"*\"; list the external hosts, or use a prefix wildcard such as *.example.com");
                    continue;
                }

                c.Check(path, Names.CheckIstioHost(hosts[i]));
            }

            c.Unique("spec.hosts", hosts, h => h, "host");
        }

        var resolution = spec.Resolution ?? ServiceEntryResolution.None;
        var addresses = spec.Addresses ?? [];
        for (var i = 0; i < addresses.Count; i++)
        {
            var path = FieldPath.Index("spec.addresses", i);
            if (!Names.IsIpOrCidr(addresses[i]))
            {
                c.Error(path, $"\"{addresses[i]}\" is not an IP address or CIDR block (such as 192.0.2.10 or 192.0.2.0/24)");
            }
            else if (addresses[i].Contains('/') && resolution is not (ServiceEntryResolution.None or ServiceEntryResolution.Static))
            {
                c.Error(path, "CIDR addresses are allowed only with resolution NONE or STATIC");
            }
        }

        var ports = spec.Ports ?? [];
        var nonHttpTls = false;
        for (var i = 0; i < ports.Count; i++)
        {
            var path = FieldPath.Index("spec.ports", i);
            var port = ports[i];
            c.Port(path + ".number", port.Number);
            c.Port(path + ".targetPort", port.TargetPort);
            if (port.Name is not null)
            {
                c.Check(path + ".name", Names.CheckDns1123Label(port.Name));
            }

            if (!string.IsNullOrEmpty(port.Protocol) && !Protocols.Contains(port.Protocol))
            {
                c.Error(path + ".protocol", $"\"{port.Protocol}\" is not a supported protocol; use one of {ProtocolList}");
            }

            var protocol = port.Protocol?.ToUpperInvariant();
            if (protocol is not ("HTTP" or "HTTPS" or "HTTP2" or "GRPC" or "GRPC-WEB" or "TLS"))
            {
                nonHttpTls = true;
            }
        }

        c.Unique("spec.ports", ports, p => p.Number?.ToString(System.Globalization.CultureInfo.InvariantCulture), "port number");
        c.Unique("spec.ports", ports, p => p.Name, "port name");

        var endpoints = spec.Endpoints ?? [];
        if (spec.WorkloadSelector is not null && endpoints.Count > 0)
        {
            c.Error("spec.workloadSelector", "only one of workloadSelector or endpoints may be set");
        }

        switch (resolution)
        {
            case ServiceEntryResolution.None when endpoints.Count > 0:
                c.Error("spec.endpoints", "resolution NONE cannot have endpoints; use STATIC (IP endpoints) or DNS (host name endpoints)");
                break;
            case ServiceEntryResolution.Static when endpoints.Count == 0 && spec.WorkloadSelector is null:
                c.Error("spec.endpoints", "resolution STATIC needs endpoints with IP addresses (or a workloadSelector); to resolve the hosts by name, use resolution DNS");
                break;
            case ServiceEntryResolution.Dns or ServiceEntryResolution.DnsRoundRobin when endpoints.Count == 0:
                for (var i = 0; i < hosts.Count; i++)
                {
                    if (hosts[i].Contains('*'))
                    {
                        c.Error(FieldPath.Index("spec.hosts", i),
                            $"DNS resolution cannot be used for wildcard host \"{hosts[i]}\" without endpoints; use resolution NONE (or DYNAMIC_DNS)");
                    }
                }

                break;
            case ServiceEntryResolution.DynamicDns:
                for (var i = 0; i < hosts.Count; i++)
                {
                    if (!hosts[i].StartsWith("*.", StringComparison.Ordinal))
                    {
                        c.Error(FieldPath.Index("spec.hosts", i), "resolution DYNAMIC_DNS needs wildcard hosts such as *.example.com");
                    }
                }

                if (endpoints.Count > 0 || addresses.Count > 0)
                {
                    c.Error("spec.resolution", "resolution DYNAMIC_DNS cannot have endpoints or addresses");
                }

                break;
        }

        if (resolution == ServiceEntryResolution.DnsRoundRobin && endpoints.Count > 1)
        {
            c.Error("spec.endpoints", "resolution DNS_ROUND_ROBIN allows at most one endpoint");
        }

        if (resolution != ServiceEntryResolution.None && hosts.Count > 1 && nonHttpTls && ports.Count > 0)
        {
            c.Error("spec.hosts", "multiple hosts provided with non-HTTP, non-TLS ports; use one ServiceEntry per host for TCP ports");
        }

        for (var i = 0; i < endpoints.Count; i++)
        {
            var path = FieldPath.Index("spec.endpoints", i);
            var endpoint = endpoints[i];
            if (string.IsNullOrEmpty(endpoint.Address))
            {
                c.Error(path + ".address", "required field is missing");
            }
            else if (resolution == ServiceEntryResolution.Static && !Names.IsIpAddress(endpoint.Address) && !endpoint.Address.StartsWith("unix://", StringComparison.Ordinal))
            {
                c.Error(path + ".address", $"\"{endpoint.Address}\" is not an IP address, which resolution STATIC needs; use resolution DNS for host names");
            }
            else if (!Names.IsIpAddress(endpoint.Address) && !endpoint.Address.StartsWith("unix://", StringComparison.Ordinal))
            {
                c.Check(path + ".address", Names.CheckFqdn(endpoint.Address) ?? Names.CheckIstioHost(endpoint.Address));
            }

            foreach (var (name, number) in endpoint.Ports ?? [])
            {
                c.Port(FieldPath.Field(path + ".ports", name), number);
                if (ports.Count > 0 && !ports.Any(p => p.Name == name))
                {
                    c.Error(FieldPath.Field(path + ".ports", name), $"port name \"{name}\" is not one of spec.ports' names");
                }
            }

            c.Labels(path + ".labels", endpoint.Labels);
            c.Range(path + ".weight", endpoint.Weight, 0, uint.MaxValue, "weight");
        }

        c.Labels("spec.workloadSelector.labels", spec.WorkloadSelector?.Labels);
        ExportTo(spec.ExportTo, c);
    }

    public static void Gateway(GatewaySpec spec, string name, RuleContext c)
    {
        // Names that are not even DNS subdomains are reported by the metadata rules already.
        if (Names.CheckDns1123Subdomain(name) is null && Names.CheckDns1123Label(name) is { } nameError)
        {
            c.Error("metadata.name", name.Contains('.')
                ? $"invalid gateway name \"{name}\": a Gateway name cannot contain dots, because VirtualServices refer to it as NAMESPACE/NAME; use '-' instead, for example \"{name.Replace('.', '-')}\""
                : $"invalid gateway name: {nameError}");
        }

        var servers = spec.Servers ?? [];
        c.NonEmpty("spec.servers", servers, "server");
        var portNames = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < servers.Count; i++)
        {
            var path = FieldPath.Index("spec.servers", i);
            var server = servers[i];
            var hosts = server.Hosts ?? [];
            if (c.NonEmpty(path + ".hosts", hosts, "host"))
            {
                for (var h = 0; h < hosts.Count; h++)
                {
                    c.Check(FieldPath.Index(path + ".hosts", h), GatewayHost(hosts[h]));
                }
            }

            if (server.Port is not { } port)
            {
                continue;
            }

            c.Port(path + ".port.number", port.Number);
            if (port.Name is "")
            {
                c.Error(path + ".port.name", "port name must be set; name each server port, for example http or https-443");
            }
            else if (port.Name is { } portName && !portNames.TryAdd(portName, i))
            {
                c.Error(path + ".port.name", $"port name \"{portName}\" is already used by spec.servers[{portNames[portName]}]; server port names must be unique");
            }

            if (port.TargetPort is not null)
            {
                c.Error(path + ".port.targetPort", "targetPort has no impact on Gateways; remove it (the gateway Service maps ports to targets)");
            }

            var protocol = port.Protocol?.ToUpperInvariant();
            if (port.Protocol is not null && !Protocols.Contains(port.Protocol))
            {
                c.Error(path + ".port.protocol", $"\"{port.Protocol}\" is not a supported protocol; use one of {ProtocolList}");
            }

            var tls = server.Tls;
            if (protocol is "HTTPS" or "TLS" && tls is null)
            {
                c.Error(path + ".tls", $"server must have TLS settings for {protocol} protocols; add tls.mode (PASSTHROUGH to route by SNI without terminating)");
            }
            else if (protocol is "HTTP" or "HTTP2" or "GRPC" or "GRPC-WEB" or "HTTP_PROXY" && tls is not null
                && (tls.Mode is not null || tls.CredentialName is not null || tls.ServerCertificate is not null || tls.PrivateKey is not null || tls.CaCertificates is not null))
            {
                c.Error(path + ".tls", $"server cannot have TLS settings for plain text {protocol} ports (only httpsRedirect); use protocol HTTPS or TLS");
            }
            else if (protocol is not null and not ("HTTPS" or "TLS" or "HTTP" or "HTTP2" or "GRPC" or "GRPC-WEB" or "HTTP_PROXY") && Protocols.Contains(protocol) && tls is not null)
            {
                c.Error(path + ".tls", $"server cannot have TLS settings for {protocol} ports, only for HTTPS and TLS; use protocol TLS to route by SNI, or remove tls");
            }

            if (tls is not null)
            {
                ServerTls(tls, path + ".tls", c);
            }
        }
    }

    private static void ServerTls(ServerTlsSettings tls, string path, RuleContext c)
    {
        var hasCredential = !string.IsNullOrEmpty(tls.CredentialName) || tls.CredentialNames is { Count: > 0 };
        switch (tls.Mode)
        {
            case ServerTlsMode.Simple or ServerTlsMode.Mutual or ServerTlsMode.OptionalMutual when !hasCredential:
                if (string.IsNullOrEmpty(tls.ServerCertificate))
                {
                    c.Error(path + ".serverCertificate", $"{ModeName(tls.Mode)} TLS requires a server certificate: set credentialName, or serverCertificate and privateKey");
                }

                if (string.IsNullOrEmpty(tls.PrivateKey))
                {
                    c.Error(path + ".privateKey", $"{ModeName(tls.Mode)} TLS requires a private key: set credentialName, or serverCertificate and privateKey");
                }

                if (tls.Mode is not ServerTlsMode.Simple && string.IsNullOrEmpty(tls.CaCertificates))
                {
                    c.Error(path + ".caCertificates", "MUTUAL TLS requires caCertificates to verify clients (or a credentialName with a CA)");
                }

                break;
            case ServerTlsMode.IstioMutual:
                if (hasCredential || tls.ServerCertificate is not null || tls.PrivateKey is not null || tls.CaCertificates is not null)
                {
                    c.Error(path, "ISTIO_MUTUAL TLS uses the gateway's workload certificate; credentialName, serverCertificate, privateKey and caCertificates must be empty");
                }

                break;
        }

        if (tls.MinProtocolVersion is { } min && tls.MaxProtocolVersion is { } max && min != TlsProtocolVersion.Auto && max != TlsProtocolVersion.Auto && min > max)
        {
            c.Error(path + ".minProtocolVersion", "minProtocolVersion is higher than maxProtocolVersion");
        }
    }

    private static string ModeName(ServerTlsMode? mode) => mode switch
    {
        ServerTlsMode.Simple => "SIMPLE",
        ServerTlsMode.Mutual => "MUTUAL",
        ServerTlsMode.OptionalMutual => "OPTIONAL_MUTUAL",
        _ => mode?.ToString() ?? "",
    };

    /// <summary>A Gateway server host: <c>[namespace/]dnsName</c>, namespace <c>*</c>, <c>.</c> or a name.</summary>
    private static string? GatewayHost(string host)
    {
        var slash = host.IndexOf('/');
        if (slash >= 0)
        {
            var ns = host[..slash];
            if (ns is not "*" and not "." && Names.CheckDns1123Label(ns) is not null)
            {
                return $"\"{host}\": namespace \"{ns}\" must be *, . or a namespace name";
            }

            host = host[(slash + 1)..];
        }

        return Names.CheckIstioHost(host);
    }

    public static void VirtualService(VirtualServiceSpec spec, RuleContext c)
    {
        var hosts = spec.Hosts ?? [];
        var gateways = spec.Gateways ?? [];
        var boundToMesh = gateways.Count == 0 || gateways.Contains("mesh");
        if (hosts.Count == 0)
        {
            // A delegate VirtualService (referenced from another's http[].delegate).
            if (gateways.Count > 0 || spec.Tls is { Count: > 0 } || spec.Tcp is { Count: > 0 })
            {
                c.Error("spec.hosts", "at least one host is required (a VirtualService without hosts is a delegate, which cannot have gateways, tls or tcp)");
            }
        }

        var allHostsValid = true;
        for (var i = 0; i < hosts.Count; i++)
        {
            var path = FieldPath.Index("spec.hosts", i);
            string? error = null;
            if (hosts[i] == "*" && boundToMesh)
            {
                error = "wildcard host * is not allowed for virtual services bound to the mesh gateway; list the hosts, or bind it to gateways only";
            }
            else if (Names.IsIpAddress(hosts[i]))
            {
                if (boundToMesh)
                {
                    error = $"IP address \"{hosts[i]}\" is allowed only for gateway-bound virtual services; use a host name";
                }
            }
            else
            {
                error = Names.CheckIstioHost(hosts[i]);
            }

            c.Check(path, error);
            allHostsValid &= error is null;
        }

        if (allHostsValid)
        {
            OverlappingHosts(hosts, c);
        }

        MatchGateways(gateways, "spec.gateways", c);

        var http = spec.Http ?? [];
        var tls = spec.Tls ?? [];
        var tcp = spec.Tcp ?? [];
        if (http.Count == 0 && tls.Count == 0 && tcp.Count == 0)
        {
            c.Error("spec", "http, tcp or tls must be provided in virtual service");
        }

        for (var i = 0; i < http.Count; i++)
        {
            HttpRoute(http[i], FieldPath.Index("spec.http", i), c);
        }

        for (var i = 0; i < tls.Count; i++)
        {
            TlsRoute(tls[i], FieldPath.Index("spec.tls", i), hosts, c);
        }

        for (var i = 0; i < tcp.Count; i++)
        {
            var path = FieldPath.Index("spec.tcp", i);
            var route = tcp[i];
            for (var m = 0; m < (route.Match?.Count ?? 0); m++)
            {
                var match = route.Match![m];
                var mpath = FieldPath.Index(path + ".match", m);
                c.Port(mpath + ".port", match.Port);
                Subnets(match.DestinationSubnets, mpath + ".destinationSubnets", c);
                MatchGateways(match.Gateways, mpath + ".gateways", c);
            }

            Destinations(route.Route, path + ".route", r => (r.Destination, r.Weight), c);
        }

        ExportTo(spec.ExportTo, c);
    }

    /// <summary>Istio refuses hosts that match each other (<c>*.cnn.com</c> and <c>edition.cnn.com</c>), not only exact repeats.</summary>
    private static void OverlappingHosts(IReadOnlyList<string> hosts, RuleContext c)
    {
        for (var j = 1; j < hosts.Count; j++)
        {
            for (var i = 0; i < j; i++)
            {
                if (string.Equals(hosts[i], hosts[j], StringComparison.OrdinalIgnoreCase))
                {
                    c.Error(FieldPath.Index("spec.hosts", j), $"duplicate host \"{hosts[j]}\"; each must be unique");
                    break;
                }

                if (Hosts.HostMatch.Covers(hosts[i], hosts[j]) || Hosts.HostMatch.Covers(hosts[j], hosts[i]))
                {
                    c.Error(FieldPath.Index("spec.hosts", j),
                        $"host \"{hosts[j]}\" overlaps host \"{hosts[i]}\" (spec.hosts[{i}]); a VirtualService cannot list hosts that match each other, so keep one of them or split the rules into two VirtualServices");
                    break;
                }
            }
        }
    }

    private static void HttpRoute(HttpRoute route, string path, RuleContext c)
    {
        var actions = (route.Route is { Count: > 0 } ? 1 : 0) + (route.Redirect is not null ? 1 : 0)
            + (route.DirectResponse is not null ? 1 : 0) + (route.Delegate is not null ? 1 : 0);
        if (actions == 0)
        {
            c.Error(path, "HTTP route, redirect or direct_response is required; add route: [{destination: {host: ...}}]");
        }
        else if (actions > 1)
        {
            c.Error(path, "only one of route, redirect, directResponse or delegate may be set");
        }

        for (var m = 0; m < (route.Match?.Count ?? 0); m++)
        {
            var match = route.Match![m];
            var mpath = FieldPath.Index(path + ".match", m);
            StringMatch(match.Uri, mpath + ".uri", c, allowEmptyPrefix: true);
            StringMatch(match.Scheme, mpath + ".scheme", c);
            StringMatch(match.Method, mpath + ".method", c);
            StringMatch(match.Authority, mpath + ".authority", c);
            foreach (var (name, value) in match.Headers ?? [])
            {
                var hpath = FieldPath.Field(mpath + ".headers", name);
                if (name.Length == 0)
                {
                    c.Error(hpath, "header name must not be empty");
                }

                StringMatch(value, hpath, c, allowEmpty: true);
            }

            foreach (var (name, value) in match.QueryParams ?? [])
            {
                StringMatch(value, FieldPath.Field(mpath + ".queryParams", name), c, allowEmpty: true);
            }

            c.Port(mpath + ".port", match.Port);
            c.Labels(mpath + ".sourceLabels", match.SourceLabels);
            MatchGateways(match.Gateways, mpath + ".gateways", c);
        }

        Destinations(route.Route, path + ".route", r => (r.Destination, r.Weight), c);
        c.Duration(path + ".timeout", route.Timeout);
        if (route.Retries is { } retries)
        {
            c.Range(path + ".retries.attempts", retries.Attempts, 0, int.MaxValue, "number of attempts");
            c.Duration(path + ".retries.perTryTimeout", retries.PerTryTimeout);
        }

        if (route.Redirect is { } redirect)
        {
            c.Port(path + ".redirect.port", redirect.Port);
            if (redirect.Port is not null && redirect.DerivePort is not null)
            {
                c.Error(path + ".redirect", "only one of port or derivePort may be set");
            }

            c.Range(path + ".redirect.redirectCode", redirect.RedirectCode, 300, 399, "redirect code");
        }

        if (route.DirectResponse is { } direct)
        {
            c.Range(path + ".directResponse.status", direct.Status, 200, 599, "HTTP status for a direct response");
        }

        if (route.Mirror is { } mirror)
        {
            c.Check(path + ".mirror.host", mirror.Host is null ? null : Names.CheckIstioHost(mirror.Host));
        }

        if (route.Fault?.Abort?.HttpStatus is { } status)
        {
            c.Range(path + ".fault.abort.httpStatus", status, 200, 599, "HTTP status");
        }

        c.Duration(path + ".fault.delay.fixedDelay", route.Fault?.Delay?.FixedDelay);
    }

    private static void TlsRoute(TlsRoute route, string path, IReadOnlyList<string> hosts, RuleContext c)
    {
        var matches = route.Match ?? [];
        if (matches.Count == 0)
        {
            c.Error(path + ".match", "TLS route must have at least one match condition (sniHosts)");
        }

        for (var m = 0; m < matches.Count; m++)
        {
            var match = matches[m];
            var mpath = FieldPath.Index(path + ".match", m);
            var sniHosts = match.SniHosts ?? [];
            if (sniHosts.Count == 0)
            {
                c.Error(mpath + ".sniHosts", "TLS match must have at least one SNI host");
            }

            for (var s = 0; s < sniHosts.Count; s++)
            {
                var spath = FieldPath.Index(mpath + ".sniHosts", s);
                var sni = sniHosts[s];
                if (Names.IsIpAddress(sni))
                {
                    c.Warning(spath, $"using an IP address (\"{sni}\") as an SNI host goes against the SNI specification, and most clients do not send it");
                }
                else if (Names.CheckIstioHost(sni) is { } error)
                {
                    c.Error(spath, error);
                }
                else if (hosts.Count > 0 && !hosts.Any(h => Hosts.HostMatch.Covers(h, sni)))
                {
                    c.Error(spath, $"SNI host \"{sni}\" is not a compatible subset of any of the virtual service hosts [{string.Join(", ", hosts)}]");
                }
            }

            c.Port(mpath + ".port", match.Port);
            Subnets(match.DestinationSubnets, mpath + ".destinationSubnets", c);
            MatchGateways(match.Gateways, mpath + ".gateways", c);
        }

        if (route.Route is not { Count: > 0 })
        {
            c.Error(path + ".route", "TLS route is required; add route: [{destination: {host: ...}}]");
        }

        Destinations(route.Route, path + ".route", r => (r.Destination, r.Weight), c);
    }

    private static void Destinations<T>(List<T>? routes, string path, Func<T, (Destination? Destination, long? Weight)> get, RuleContext c)
    {
        if (routes is null)
        {
            return;
        }

        long total = 0;
        for (var i = 0; i < routes.Count; i++)
        {
            var rpath = FieldPath.Index(path, i);
            var (destination, weight) = get(routes[i]);
            if (weight is { } w)
            {
                c.Range(rpath + ".weight", w, 0, int.MaxValue, "weight");
                total += Math.Max(0, w);
            }

            if (destination is null)
            {
                continue;
            }

            if (destination.Host is { } host)
            {
                c.Check(rpath + ".destination.host", host == "*" ? "destination host cannot be *; name the service" : Names.CheckIstioHost(host));
            }

            if (destination.Subset is { } subset)
            {
                c.Check(rpath + ".destination.subset", Names.CheckDns1123Label(subset));
            }

            c.Port(rpath + ".destination.port.number", destination.Port?.Number);
        }

        if (routes.Count > 1 && total == 0)
        {
            c.Error(path, "total destination weight = 0; give at least one destination a weight");
        }
    }

    private static void StringMatch(StringMatch? match, string path, RuleContext c, bool allowEmpty = false, bool allowEmptyPrefix = false)
    {
        if (match is null)
        {
            return;
        }

        var set = (match.Exact is not null ? 1 : 0) + (match.Prefix is not null ? 1 : 0) + (match.Regex is not null ? 1 : 0);
        if (set > 1)
        {
            c.Error(path, "only one of exact, prefix or regex may be set");
        }
        else if (set == 0 && !allowEmpty)
        {
            c.Error(path, "one of exact, prefix or regex is required");
        }

        if (match.Prefix is "" && !allowEmptyPrefix)
        {
            c.Error(path + ".prefix", "prefix must not be empty");
        }

        c.Regex(path + ".regex", match.Regex);
    }

    private static void MatchGateways(List<string>? gateways, string path, RuleContext c)
    {
        for (var i = 0; i < (gateways?.Count ?? 0); i++)
        {
            var gateway = gateways![i];
            if (GatewayReference(gateway) is { } error)
            {
                c.Error(FieldPath.Index(path, i), error);
            }
            else if (gateway != "mesh" && !gateway.Contains('/') && gateway.Split('.') is [var name, var ns, ..])
            {
                c.Warning(FieldPath.Index(path, i), $"\"{gateway}\" uses the legacy NAME.NAMESPACE form; prefer NAMESPACE/NAME: \"{ns}/{name}\"");
            }
        }
    }

    private static void Subnets(List<string>? subnets, string path, RuleContext c)
    {
        for (var i = 0; i < (subnets?.Count ?? 0); i++)
        {
            if (!Names.IsIpOrCidr(subnets![i]))
            {
                c.Error(FieldPath.Index(path, i), $"\"{subnets[i]}\" is not an IP address or CIDR block");
            }
        }
    }

    /// <summary><c>mesh</c>, <c>name</c> or <c>namespace/name</c>.</summary>
    private static string? GatewayReference(string gateway)
    {
        if (gateway == "mesh")
        {
            return null;
        }

        var parts = gateway.Split('/');
        if (parts.Length > 2)
        {
            return $"\"{gateway}\" is not a gateway reference; use mesh, NAME or NAMESPACE/NAME";
        }

        if (parts.Length == 1)
        {
            // A bare name, or the legacy NAME.NAMESPACE form.
            return Names.CheckDns1123Subdomain(gateway) is null
                ? null
                : $"\"{gateway}\" is not a gateway reference; use mesh, NAME or NAMESPACE/NAME with lower-case DNS names";
        }

        var (ns, name) = (parts[0], parts[1]);
        if (Names.CheckDns1123Label(ns) is not null)
        {
            return $"\"{gateway}\" is not a gateway reference: namespace \"{ns}\" is not a valid namespace name; use NAMESPACE/NAME";
        }

        return Names.CheckDns1123Label(name) is null
            ? null
            : $"\"{gateway}\" is not a gateway reference: \"{name}\" is not a valid gateway name (lower-case letters, digits and '-', no dots); use NAMESPACE/NAME";
    }

    public static void DestinationRule(DestinationRuleSpec spec, RuleContext c)
    {
        if (spec.Host is { } host)
        {
            c.Check("spec.host", Names.CheckIstioHost(host));
        }

        var subsets = spec.Subsets ?? [];
        for (var i = 0; i < subsets.Count; i++)
        {
            var path = FieldPath.Index("spec.subsets", i);
            if (subsets[i].Name is { } name)
            {
                c.Check(path + ".name", Names.CheckDns1123Label(name));
            }

            c.Labels(path + ".labels", subsets[i].Labels);
            TrafficPolicy(subsets[i].TrafficPolicy, path + ".trafficPolicy", c);
        }

        c.Unique("spec.subsets", subsets, s => s.Name, "subset name");
        TrafficPolicy(spec.TrafficPolicy, "spec.trafficPolicy", c);
        c.Labels("spec.workloadSelector.matchLabels", spec.WorkloadSelector?.MatchLabels);
        ExportTo(spec.ExportTo, c);
    }

    private static void TrafficPolicy(TrafficPolicy? policy, string path, RuleContext c)
    {
        if (policy is null)
        {
            return;
        }

        ClientTls(policy.Tls, path + ".tls", c);
        OutlierAndPool(policy.OutlierDetection, policy.ConnectionPool, path, c);
        var ports = policy.PortLevelSettings ?? [];
        for (var i = 0; i < ports.Count; i++)
        {
            var ppath = FieldPath.Index(path + ".portLevelSettings", i);
            if (ports[i].Port?.Number is not { } number)
            {
                c.Error(ppath + ".port.number", "required field is missing; port-level settings apply to one port number");
            }
            else
            {
                c.Port(ppath + ".port.number", number);
            }

            ClientTls(ports[i].Tls, ppath + ".tls", c);
            OutlierAndPool(ports[i].OutlierDetection, ports[i].ConnectionPool, ppath, c);
        }

        c.Unique(path + ".portLevelSettings", ports, p => p.Port?.Number?.ToString(System.Globalization.CultureInfo.InvariantCulture), "port");
        if (policy.Tunnel is { } tunnel)
        {
            c.Port(path + ".tunnel.targetPort", tunnel.TargetPort);
            if (tunnel.Protocol is { } p && p is not ("CONNECT" or "POST"))
            {
                c.Error(path + ".tunnel.protocol", $"\"{p}\" is not one of CONNECT, POST");
            }
        }

        if (policy.ProxyProtocol?.Version is { } version && version is not ("V1" or "V2"))
        {
            c.Error(path + ".proxyProtocol.version", $"\"{version}\" is not one of V1, V2");
        }
    }

    private static void OutlierAndPool(OutlierDetection? outlier, ConnectionPoolSettings? pool, string path, RuleContext c)
    {
        if (outlier is not null)
        {
            c.Range(path + ".outlierDetection.maxEjectionPercent", outlier.MaxEjectionPercent, 0, 100, "percentage");
            c.Range(path + ".outlierDetection.minHealthPercent", outlier.MinHealthPercent, 0, 100, "percentage");
            c.Duration(path + ".outlierDetection.interval", outlier.Interval);
            c.Duration(path + ".outlierDetection.baseEjectionTime", outlier.BaseEjectionTime);
        }

        if (pool is not null)
        {
            c.Range(path + ".connectionPool.tcp.maxConnections", pool.Tcp?.MaxConnections, 1, int.MaxValue, "connection limit");
            c.Duration(path + ".connectionPool.tcp.connectTimeout", pool.Tcp?.ConnectTimeout);
            c.Duration(path + ".connectionPool.http.idleTimeout", pool.Http?.IdleTimeout);
        }
    }

    private static void ClientTls(ClientTlsSettings? tls, string path, RuleContext c)
    {
        if (tls is null)
        {
            return;
        }

        switch (tls.Mode)
        {
            case ClientTlsMode.Simple or ClientTlsMode.Mutual
                when tls.CredentialName is not null
                && (tls.ClientCertificate is not null || tls.PrivateKey is not null || tls.CaCertificates is not null || tls.CaCrl is not null):
                c.Error(path, "cannot set clientCertificate, privateKey, caCertificates or caCrl together with credentialName; the secret named by credentialName provides them");
                break;
            case ClientTlsMode.IstioMutual
                when tls.ClientCertificate is not null || tls.PrivateKey is not null || tls.CaCertificates is not null || tls.CredentialName is not null:
                c.Error(path, "ISTIO_MUTUAL uses the workload's certificate; clientCertificate, privateKey, caCertificates and credentialName must be empty");
                break;
            case ClientTlsMode.Mutual when tls.CredentialName is null:
                if (tls.ClientCertificate is null)
                {
                    c.Error(path + ".clientCertificate", "MUTUAL TLS needs a client certificate: set credentialName, or clientCertificate and privateKey");
                }

                if (tls.PrivateKey is null)
                {
                    c.Error(path + ".privateKey", "MUTUAL TLS needs a private key: set credentialName, or clientCertificate and privateKey");
                }

                break;
        }

        if (tls.Sni is { } sni)
        {
            c.Check(path + ".sni", Names.CheckFqdn(sni));
        }
    }

    private static void ExportTo(List<string>? exportTo, RuleContext c)
    {
        if (exportTo is null)
        {
            return;
        }

        for (var i = 0; i < exportTo.Count; i++)
        {
            var value = exportTo[i];
            if (value is "." or "*" or "~")
            {
                continue;
            }

            if (Names.CheckDns1123Label(value) is not null)
            {
                c.Error(FieldPath.Index("spec.exportTo", i), $"\"{value}\" is not valid: use \".\" (this namespace), \"*\" (all) or a namespace name");
            }
        }

        if (exportTo.Contains("*") && exportTo.Count > 1)
        {
            c.Error("spec.exportTo", "\"*\" cannot be combined with other namespaces");
        }
    }
}
