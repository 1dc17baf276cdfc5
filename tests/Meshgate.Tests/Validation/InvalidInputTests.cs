using Meshgate.Core.Resources;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.Validation;

/// <summary>
/// Invalid input is refused with messages that name the object, document, line and field, say what was
/// wrong and what is allowed. Each case asserts the exact, complete list of errors.
/// </summary>
public class InvalidInputTests
{
    private const string Source = "stdin";

    public static TheoryData<string, string, string> SyntaxCases() => new()
    {
        {
            "bad indentation",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
             namespace: default
            spec:
              hosts: [edition.cnn.com]
            """,
            "error parsing input: stdin: line 5, column 2: While parsing a block mapping, did not find expected key; check the indentation: the keys of one mapping must start in the same column"
        },
        {
            "unclosed quote",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: "cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "error parsing input: stdin: line 4, column 9: While scanning a multi-line double-quoted scalar, found wrong indentation; check for a missing closing quote"
        },
        {
            "tab indentation",
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n\tname: cnn\nspec:\n  hosts: [edition.cnn.com]\n",
            "error parsing input: stdin: line 4, column 1: a tab character is used for indentation; YAML allows only spaces for indentation"
        },
        {
            "duplicate key",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              resolution: DNS
              resolution: NONE
            """,
            "error parsing input: stdin: line 8, column 3: duplicate key \"resolution\"; a key may appear only once in a mapping, so remove or rename one of them"
        },
        {
            "unclosed flow list",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com
              resolution: DNS
            """,
            "error parsing input: stdin: line 6, column 10: the YAML is malformed after this point; check for an unclosed [, { or quote"
        },
        {
            "alias without anchor",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: *cnn-hosts
            """,
            "error parsing input: stdin: line 6, column 10: alias *cnn-hosts refers to no anchor; define &cnn-hosts on a value before the alias uses it"
        },
        {
            "scalar document",
            """
            kubectl apply -f cnn.yaml
            """,
            "document 1 (stdin, document 1, line 1): expected an object with apiVersion, kind and metadata, got string \"kubectl apply -f cnn.yaml\""
        },
        {
            "list document",
            """
            - apiVersion: networking.istio.io/v1
              kind: ServiceEntry
            """,
            "document 1 (stdin, document 1, line 1): expected an object with apiVersion, kind and metadata, got a list; separate objects with a line of ---, or write kind: List with the objects under items"
        },
        {
            "missing apiVersion",
            """
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntry cnn (stdin, document 1, line 1): apiVersion: required field is missing; ServiceEntry needs apiVersion: networking.istio.io/v1"
        },
        {
            "missing kind",
            """
            apiVersion: networking.istio.io/v1
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "document 1 (stdin, document 1, line 1): kind: required field is missing; add kind: with one of ServiceEntry, Gateway, VirtualService, DestinationRule"
        },
        {
            "misspelt kind",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntri
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntri cnn (stdin, document 1, line 2): kind: no kind \"ServiceEntri\" is served in \"networking.istio.io/v1\"; did you mean ServiceEntry? networking.istio.io has ServiceEntry, Gateway, VirtualService, DestinationRule"
        },
        {
            "unserved version",
            """
            apiVersion: networking.istio.io/v2
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntry cnn (stdin, document 1, line 1): apiVersion: ServiceEntry is not served in version \"v2\"; use networking.istio.io/v1 or networking.istio.io/v1beta1 or networking.istio.io/v1alpha3"
        },
    };

    public static TheoryData<string, string, string> SchemaCases() => new()
    {
        {
            "unknown top-level field",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            labels:
              app: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): labels: unknown field \"labels\"; labels belongs under metadata: indent it below metadata (known fields: apiVersion, kind, metadata, spec, status)"
        },
        {
            "empty list item",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - number: 80
                name: http
                protocol: HTTP
              -
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 8): spec.ports[1]: the list item is empty (null); remove it or give it a value (this list holds objects)"
        },
        {
            "spec field at the top level",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            hosts: [edition.cnn.com]
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 5): hosts: unknown field \"hosts\"; hosts belongs under spec: indent it below spec (known fields: apiVersion, kind, metadata, spec, status)"
        },
        {
            "unknown spec field",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              resolutions: DNS
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 7): spec.resolutions: unknown field \"resolutions\"; did you mean \"resolution\"? (known fields: hosts, addresses, ports, location, resolution, endpoints, workloadSelector, exportTo, subjectAltNames)"
        },
        {
            "unknown field in a list item",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - number: 80
                name: http
                protocl: HTTP
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 10): spec.ports[0].protocl: unknown field \"protocl\"; did you mean \"protocol\"? (known fields: number, protocol, name, targetPort)"
        },
        {
            "quoted port number",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - number: "80"
                name: http
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 8): spec.ports[0].number: expected an integer, got string \"80\"; remove the quotes"
        },
        {
            "number as label value",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
              labels:
                version: 1
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): metadata.labels.version: expected a string, got number 1; quote it: \"1\""
        },
        {
            "list where a map is expected",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
              - istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 7): spec.selector: expected a map of strings, got a list"
        },
        {
            "map where a list is expected",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts:
                name: edition.cnn.com
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 7): spec.hosts: expected a list of strings, got an object; start each list item with \"- \""
        },
        {
            "string where a list is expected",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: edition.cnn.com
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): spec.hosts: expected a list of strings, got string \"edition.cnn.com\"; write it as a list: [\"edition.cnn.com\"]"
        },
        {
            "quoted boolean",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
                tls:
                  httpsRedirect: "true"
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 12): spec.servers[0].tls.httpsRedirect: expected a boolean (true or false), got string \"true\"; remove the quotes"
        },
        {
            "misspelt resolution",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              resolution: DNZ
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 7): spec.resolution: \"DNZ\" is not one of NONE, STATIC, DNS, DNS_ROUND_ROBIN, DYNAMIC_DNS; did you mean DNS?"
        },
        {
            "misspelt location",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              location: MESH_EXTERNL
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 7): spec.location: \"MESH_EXTERNL\" is not one of MESH_EXTERNAL, MESH_INTERNAL; did you mean MESH_EXTERNAL?"
        },
        {
            "misspelt tls mode",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: [edition.cnn.com]
                tls:
                  mode: PASSTROUGH
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 12): spec.servers[0].tls.mode: \"PASSTROUGH\" is not one of PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL, OPTIONAL_MUTUAL; did you mean PASSTHROUGH?"
        },
    };

    public static TheoryData<string, string, string> PortCases() => new()
    {
        {
            "ServiceEntry port 70000",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - number: 70000
                name: http
                protocol: HTTP
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 8): spec.ports[0].number: 70000 is not a port (1-65535)"
        },
        {
            "Gateway port 0",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 0, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 9): spec.servers[0].port.number: 0 is not a port (1-65535)"
        },
        {
            "VirtualService destination port 70000",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              http:
              - route:
                - destination:
                    host: edition.cnn.com
                    port:
                      number: 70000
            """,
            "VirtualService default/cnn (stdin, document 1, line 12): spec.http[0].route[0].destination.port.number: 70000 is not a port (1-65535)"
        },
        {
            "Service port 0",
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: sleep
            spec:
              selector:
                app: sleep
              ports:
              - name: http
                port: 0
            """,
            "Service default/sleep (stdin, document 1, line 10): spec.ports[0].port: 0 is not a port (1-65535)"
        },
        {
            "NetworkPolicy port 70000",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-dns
            spec:
              podSelector: {}
              policyTypes: [Egress]
              egress:
              - ports:
                - protocol: UDP
                  port: 70000
            """,
            "NetworkPolicy default/allow-dns (stdin, document 1, line 11): spec.egress[0].ports[0].port: 70000 is not a port (1-65535)"
        },
    };

    public static TheoryData<string, string, string> ServiceEntryCases() => new()
    {
        {
            "hosts missing",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              ports:
              - {number: 80, name: http, protocol: HTTP}
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): spec.hosts: required field is missing"
        },
        {
            "hosts empty",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: []
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): spec.hosts: at least one host is required"
        },
        {
            "host *",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: everything
            spec:
              hosts: ["*"]
            """,
            "ServiceEntry default/everything (stdin, document 1, line 6): spec.hosts[0]: hostname cannot be wildcard \"*\"; list the external hosts, or use a prefix wildcard such as *.example.com"
        },
        {
            "wildcard in the middle",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: foo
            spec:
              hosts: [foo.*.com]
            """,
            "ServiceEntry default/foo (stdin, document 1, line 6): spec.hosts[0]: host \"foo.*.com\" is not valid: a wildcard is allowed only as the whole first label, as in *.example.com"
        },
        {
            "IP address as host",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: proxy
            spec:
              hosts: [192.0.2.10]
            """,
            "ServiceEntry default/proxy (stdin, document 1, line 6): spec.hosts[0]: host \"192.0.2.10\" is an IP address, not a DNS name; name the service here and put the IP address in addresses or endpoints"
        },
        {
            "duplicate port numbers",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              - {number: 80, name: http-alt, protocol: HTTP}
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 9): spec.ports[1]: duplicate port number \"80\"; each must be unique"
        },
        {
            "duplicate port names",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              - {number: 443, name: http, protocol: HTTPS}
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 9): spec.ports[1]: duplicate port name \"http\"; each must be unique"
        },
        {
            "upper-case port name",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: HTTP, protocol: HTTP}
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 8): spec.ports[0].name: \"HTTP\" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label), for example \"my-name\""
        },
        {
            "unsupported protocol",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: mail
            spec:
              hosts: [smtp.example.com]
              ports:
              - {number: 25, name: smtp, protocol: SMTP}
            """,
            "ServiceEntry default/mail (stdin, document 1, line 8): spec.ports[0].protocol: \"SMTP\" is not a supported protocol; use one of HTTP, HTTPS, GRPC, GRPC-WEB, HTTP2, MONGO, MYSQL, REDIS, TCP, TLS, UDP"
        },
        {
            "NONE with endpoints",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              resolution: NONE
              endpoints:
              - address: 151.101.1.67
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 11): spec.endpoints: resolution NONE cannot have endpoints; use STATIC (IP endpoints) or DNS (host name endpoints)"
        },
        {
            "STATIC without endpoints",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              resolution: STATIC
            """,
            "ServiceEntry default/cnn (stdin, document 1, line 6): spec.endpoints: resolution STATIC needs endpoints with IP addresses (or a workloadSelector); to resolve the hosts by name, use resolution DNS"
        },
        {
            "DNS with a wildcard host and no endpoints",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: wikipedia
            spec:
              hosts: ["*.wikipedia.org"]
              ports:
              - {number: 443, name: https, protocol: HTTPS}
              resolution: DNS
            """,
            "ServiceEntry default/wikipedia (stdin, document 1, line 6): spec.hosts[0]: DNS resolution cannot be used for wildcard host \"*.wikipedia.org\" without endpoints; use resolution NONE (or DYNAMIC_DNS)"
        },
        {
            "bad address",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: proxy
            spec:
              hosts: [my-company-proxy.com]
              addresses: [10.0.0.300]
              ports:
              - {number: 3128, name: tcp, protocol: TCP}
            """,
            "ServiceEntry default/proxy (stdin, document 1, line 7): spec.addresses[0]: \"10.0.0.300\" is not an IP address or CIDR block (such as 192.0.2.10 or 192.0.2.0/24)"
        },
    };

    public static TheoryData<string, string, string> GatewayCases() => new()
    {
        {
            "no servers",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers: []
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 8): spec.servers: at least one server is required"
        },
        {
            "HTTPS server without tls",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 443, name: https, protocol: HTTPS}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 9): spec.servers[0].tls: server must have TLS settings for HTTPS protocols; add tls.mode (PASSTHROUGH to route by SNI without terminating)"
        },
        {
            "plain HTTP server with a tls mode",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
                tls:
                  mode: SIMPLE
                  credentialName: cnn-credential
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 12): spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports (only httpsRedirect); use protocol HTTPS or TLS"
        },
        {
            "TCP server with tls",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 3306, name: mysql, protocol: TCP}
                hosts: [db.example.com]
                tls:
                  mode: SIMPLE
                  credentialName: db-credential
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 12): spec.servers[0].tls: server cannot have TLS settings for TCP ports, only for HTTPS and TLS; use protocol TLS to route by SNI, or remove tls"
        },
        {
            "targetPort set",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 9): spec.servers[0].port.targetPort: targetPort has no impact on Gateways; remove it (the gateway Service maps ports to targets)"
        },
        {
            "duplicate port names",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
              - port: {number: 8080, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 11): spec.servers[1].port.name: port name \"http\" is already used by spec.servers[0]; server port names must be unique"
        },
        {
            "empty port name",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: "", protocol: HTTP}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/istio-egressgateway (stdin, document 1, line 9): spec.servers[0].port.name: port name must be set; name each server port, for example http or https-443"
        },
        {
            "name with a dot",
            """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: egress.gateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: [edition.cnn.com]
            """,
            "Gateway default/egress.gateway (stdin, document 1, line 4): metadata.name: invalid gateway name \"egress.gateway\": a Gateway name cannot contain dots, because VirtualServices refer to it as NAMESPACE/NAME; use '-' instead, for example \"egress-gateway\""
        },
    };

    public static TheoryData<string, string, string> VirtualServiceCases() => new()
    {
        {
            "no http, tls or tcp",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
            """,
            "VirtualService default/cnn (stdin, document 1, line 6): spec: http, tcp or tls must be provided in virtual service"
        },
        {
            "wildcard host bound to the mesh",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: everything
            spec:
              hosts: ["*"]
              http:
              - route:
                - destination: {host: edition.cnn.com}
            """,
            "VirtualService default/everything (stdin, document 1, line 6): spec.hosts[0]: wildcard host * is not allowed for virtual services bound to the mesh gateway; list the hosts, or bind it to gateways only"
        },
        {
            "http route without route or redirect",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              http:
              - match:
                - uri: {prefix: /politics}
                timeout: 3s
            """,
            "VirtualService default/cnn (stdin, document 1, line 8): spec.http[0]: HTTP route, redirect or direct_response is required; add route: [{destination: {host: ...}}]"
        },
        {
            "tls route without match",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              tls:
              - route:
                - destination: {host: edition.cnn.com, port: {number: 443}}
            """,
            "VirtualService default/cnn (stdin, document 1, line 8): spec.tls[0].match: required field is missing"
        },
        {
            "sniHosts outside hosts",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              tls:
              - match:
                - port: 443
                  sniHosts: [www.cnn.com]
                route:
                - destination: {host: edition.cnn.com, port: {number: 443}}
            """,
            "VirtualService default/cnn (stdin, document 1, line 10): spec.tls[0].match[0].sniHosts[0]: SNI host \"www.cnn.com\" is not a compatible subset of any of the virtual service hosts [edition.cnn.com]"
        },
        {
            "hosts that overlap",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: ["*.cnn.com", edition.cnn.com]
              http:
              - route:
                - destination: {host: edition.cnn.com}
            """,
            "VirtualService default/cnn (stdin, document 1, line 6): spec.hosts[1]: host \"edition.cnn.com\" overlaps host \"*.cnn.com\" (spec.hosts[0]); a VirtualService cannot list hosts that match each other, so keep one of them or split the rules into two VirtualServices"
        },
        {
            "all weights zero",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              http:
              - route:
                - destination: {host: edition.cnn.com, subset: v1}
                  weight: 0
                - destination: {host: edition.cnn.com, subset: v2}
                  weight: 0
            """,
            "VirtualService default/cnn (stdin, document 1, line 9): spec.http[0].route: total destination weight = 0; give at least one destination a weight"
        },
        {
            "timeout in words",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: httpbin
            spec:
              hosts: [httpbin.org]
              http:
              - timeout: 3 seconds
                route:
                - destination: {host: httpbin.org}
            """,
            "VirtualService default/httpbin (stdin, document 1, line 8): spec.http[0].timeout: \"3 seconds\" is not a duration; write a number with a unit (h, m, s, ms, us, ns), for example 3s or 1m30s"
        },
        {
            "bad gateway reference",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              gateways: [istio-system/egress.gateway, mesh]
              http:
              - route:
                - destination: {host: edition.cnn.com}
            """,
            "VirtualService default/cnn (stdin, document 1, line 7): spec.gateways[0]: \"istio-system/egress.gateway\" is not a gateway reference: \"egress.gateway\" is not a valid gateway name (lower-case letters, digits and '-', no dots); use NAMESPACE/NAME"
        },
        {
            "unterminated regex",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              http:
              - match:
                - uri: {regex: "/politics/[a-z"}
                route:
                - destination: {host: edition.cnn.com}
            """,
            "VirtualService default/cnn (stdin, document 1, line 9): spec.http[0].match[0].uri.regex: \"/politics/[a-z\" is not a valid regular expression: Unterminated [] set at offset 14"
        },
        {
            "regex with Perl look-ahead",
            """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              http:
              - match:
                - uri: {regex: "/(?!admin).*"}
                route:
                - destination: {host: edition.cnn.com}
            """,
            "VirtualService default/cnn (stdin, document 1, line 9): spec.http[0].match[0].uri.regex: \"/(?!admin).*\" uses the negative look-ahead (?!, which RE2 (the regex engine of Istio and Envoy) does not support; see https://github.com/google/re2/wiki/Syntax"
        },
    };

    public static TheoryData<string, string, string> DestinationRuleCases() => new()
    {
        {
            "host missing",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: egressgateway-for-cnn
            spec:
              subsets:
              - name: cnn
            """,
            "DestinationRule default/egressgateway-for-cnn (stdin, document 1, line 6): spec.host: required field is missing"
        },
        {
            "duplicate subset names",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: egressgateway-for-cnn
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subsets:
              - name: cnn
              - name: cnn
            """,
            "DestinationRule default/egressgateway-for-cnn (stdin, document 1, line 9): spec.subsets[1]: duplicate subset name \"cnn\"; each must be unique"
        },
        {
            "ISTIO_MUTUAL with a client certificate",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: egressgateway-for-cnn
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              trafficPolicy:
                tls:
                  mode: ISTIO_MUTUAL
                  clientCertificate: /etc/certs/client.pem
            """,
            "DestinationRule default/egressgateway-for-cnn (stdin, document 1, line 9): spec.trafficPolicy.tls: ISTIO_MUTUAL uses the workload's certificate; clientCertificate, privateKey, caCertificates and credentialName must be empty"
        },
        {
            "credentialName with file certificates",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: originate-mtls-for-nginx
            spec:
              host: my-nginx.mesh-external.svc.cluster.local
              trafficPolicy:
                tls:
                  mode: MUTUAL
                  credentialName: client-credential
                  caCertificates: /etc/certs/ca.pem
            """,
            "DestinationRule default/originate-mtls-for-nginx (stdin, document 1, line 9): spec.trafficPolicy.tls: cannot set clientCertificate, privateKey, caCertificates or caCrl together with credentialName; the secret named by credentialName provides them"
        },
        {
            "portLevelSettings without port",
            """
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: originate-tls-for-edition-cnn-com
            spec:
              host: edition.cnn.com
              trafficPolicy:
                portLevelSettings:
                - tls:
                    mode: SIMPLE
            """,
            "DestinationRule default/originate-tls-for-edition-cnn-com (stdin, document 1, line 9): spec.trafficPolicy.portLevelSettings[0].port.number: required field is missing; port-level settings apply to one port number"
        },
    };

    public static TheoryData<string, string, string> GatewayApiCases() => new()
    {
        {
            "Gateway without listeners",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners: []
            """,
            "Gateway default/cnn-egress-gateway (stdin, document 1, line 7): spec.listeners: at least one listener is required"
        },
        {
            "duplicate listener names",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP}
              - {name: http, hostname: www.cnn.com, port: 80, protocol: HTTP}
            """,
            "Gateway default/cnn-egress-gateway (stdin, document 1, line 9): spec.listeners[1]: duplicate listener name \"http\"; each must be unique"
        },
        {
            "TLS listener without tls",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - {name: tls, hostname: edition.cnn.com, port: 443, protocol: TLS}
            """,
            "Gateway default/cnn-egress-gateway (stdin, document 1, line 8): spec.listeners[0].tls: a TLS listener needs tls.mode: Passthrough (route by SNI) or Terminate"
        },
        {
            "Passthrough on an HTTPS listener",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - name: https
                hostname: edition.cnn.com
                port: 443
                protocol: HTTPS
                tls:
                  mode: Passthrough
            """,
            "Gateway default/cnn-egress-gateway (stdin, document 1, line 13): spec.listeners[0].tls.mode: Passthrough is not allowed with protocol HTTPS; use protocol TLS to route by SNI without terminating"
        },
        {
            "listener protocol outside Gateway API's pattern",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP/2}
            """,
            "Gateway default/cnn-egress-gateway (stdin, document 1, line 8): spec.listeners[0].protocol: \"HTTP/2\" is not a valid listener protocol: use one of HTTP, HTTPS, TLS, TCP, UDP, or a domain-prefixed name such as example.com/my-protocol (Gateway API ProtocolType: a name of letters, digits and inner '-', or DOMAIN/NAME; at most 255 characters); did you mean HTTP?"
        },
        {
            "Service backend without port",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: direct-cnn-to-egress-gateway
            spec:
              parentRefs:
              - {kind: ServiceEntry, group: networking.istio.io, name: cnn}
              rules:
              - backendRefs:
                - name: cnn-egress-gateway-istio
            """,
            "HTTPRoute default/direct-cnn-to-egress-gateway (stdin, document 1, line 10): spec.rules[0].backendRefs[0].port: port is required when the backend is a Service"
        },
        {
            "Hostname backend with namespace",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: forward-cnn-from-egress-gateway
            spec:
              parentRefs:
              - name: cnn-egress-gateway
              hostnames: [edition.cnn.com]
              rules:
              - backendRefs:
                - kind: Hostname
                  group: networking.istio.io
                  name: edition.cnn.com
                  namespace: default
                  port: 80
            """,
            "HTTPRoute default/forward-cnn-from-egress-gateway (stdin, document 1, line 14): spec.rules[0].backendRefs[0].namespace: namespace may not be set with Hostname type; the host is found in the ServiceEntry registry"
        },
        {
            "ServiceEntry parent without group",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: direct-cnn-to-egress-gateway
            spec:
              parentRefs:
              - {kind: ServiceEntry, name: cnn}
              rules:
              - backendRefs:
                - {name: cnn-egress-gateway-istio, port: 80}
            """,
            "HTTPRoute default/direct-cnn-to-egress-gateway (stdin, document 1, line 7): spec.parentRefs[0].group: a ServiceEntry parent needs group: networking.istio.io"
        },
        {
            "relative path",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: forward-cnn-from-egress-gateway
            spec:
              parentRefs:
              - name: cnn-egress-gateway
              rules:
              - matches:
                - path: {type: PathPrefix, value: politics}
                backendRefs:
                - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}
            """,
            "HTTPRoute default/forward-cnn-from-egress-gateway (stdin, document 1, line 10): spec.rules[0].matches[0].path.value: \"politics\" must be an absolute path starting with '/'"
        },
        {
            "TLSRoute without rules",
            """
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TLSRoute
            metadata:
              name: forward-cnn-from-egress-gateway
            spec:
              parentRefs:
              - name: cnn-egress-gateway
              hostnames: [edition.cnn.com]
            """,
            "TLSRoute default/forward-cnn-from-egress-gateway (stdin, document 1, line 6): spec.rules: at least one rule is required"
        },
        {
            "TCPRoute without rules",
            """
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata:
              name: db
            spec:
              parentRefs:
              - name: cnn-egress-gateway
            """,
            "TCPRoute default/db (stdin, document 1, line 6): spec.rules: at least one rule is required"
        },
        {
            "TCPRoute Service backend without port",
            """
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata:
              name: db
            spec:
              parentRefs:
              - name: cnn-egress-gateway
              rules:
              - backendRefs:
                - {name: db}
            """,
            "TCPRoute default/db (stdin, document 1, line 10): spec.rules[0].backendRefs[0].port: port is required when the backend is a Service"
        },
        {
            "fractional duration",
            """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata:
              name: forward-cnn-from-egress-gateway
            spec:
              parentRefs:
              - name: cnn-egress-gateway
              rules:
              - timeouts:
                  request: 1.5s
                backendRefs:
                - {kind: Hostname, group: networking.istio.io, name: edition.cnn.com, port: 80}
            """,
            "HTTPRoute default/forward-cnn-from-egress-gateway (stdin, document 1, line 10): spec.rules[0].timeouts.request: \"1.5s\" is not a Gateway API duration; write up to four number+unit pairs with units h, m, s or ms, for example 3s or 1m30s"
        },
    };

    public static TheoryData<string, string, string> KubernetesCases() => new()
    {
        {
            "selector not matching template labels",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: sleep
            spec:
              selector:
                matchLabels: {app: sleep}
              template:
                metadata:
                  labels: {app: curl}
                spec:
                  containers:
                  - {name: sleep, image: curlimages/curl}
            """,
            "Deployment default/sleep (stdin, document 1, line 10): spec.template.metadata.labels: selector does not match template labels: spec.selector.matchLabels wants app=sleep, but the template has app=curl; the Deployment would never find its own pods"
        },
        {
            "Deployment without containers",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: sleep
            spec:
              selector:
                matchLabels: {app: sleep}
              template:
                metadata:
                  labels: {app: sleep}
                spec:
                  containers: []
            """,
            "Deployment default/sleep (stdin, document 1, line 12): spec.template.spec.containers: at least one container is required"
        },
        {
            "Service with two unnamed ports",
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: my-nginx
            spec:
              selector: {run: my-nginx}
              ports:
              - port: 80
              - port: 443
            """,
            "Service default/my-nginx (stdin, document 1, line 8): spec.ports[0].name: every port needs a name when a Service has more than one port\n" +
            "Service default/my-nginx (stdin, document 1, line 9): spec.ports[1].name: every port needs a name when a Service has more than one port"
        },
        {
            "NetworkPolicy with a bad policyType",
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-egress
            spec:
              podSelector: {}
              policyTypes: [egress]
            """,
            "NetworkPolicy default/allow-egress (stdin, document 1, line 7): spec.policyTypes[0]: \"egress\" is not one of Ingress, Egress; did you mean Egress?"
        },
        {
            "lower-case port protocol",
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: sleep
            spec:
              selector: {app: sleep}
              ports:
              - name: http
                port: 80
                protocol: tcp
            """,
            "Service default/sleep (stdin, document 1, line 10): spec.ports[0].protocol: \"tcp\" is not one of TCP, UDP, SCTP; did you mean TCP?"
        },
        {
            "bad label key",
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: sleep
              labels:
                "app name": sleep
            spec:
              ports:
              - port: 80
            """,
            "Service default/sleep (stdin, document 1, line 6): metadata.labels[\"app name\"]: key \"app name\" is not valid: the name part must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        },
        {
            "upper-case object name",
            """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: CNN
            spec:
              hosts: [edition.cnn.com]
            """,
            "ServiceEntry default/CNN (stdin, document 1, line 4): metadata.name: \"CNN\" is not a valid name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (RFC 1123 subdomain), for example \"example.com\""
        },
    };

    [Theory]
    [MemberData(nameof(SyntaxCases))]
    public void ParseText_MalformedDocument_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(SchemaCases))]
    public void ParseText_SchemaViolation_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(PortCases))]
    public void ParseText_PortOutOfRange_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(ServiceEntryCases))]
    public void ParseText_InvalidServiceEntry_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(GatewayCases))]
    public void ParseText_InvalidIstioGateway_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(VirtualServiceCases))]
    public void ParseText_InvalidVirtualService_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(DestinationRuleCases))]
    public void ParseText_InvalidDestinationRule_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(GatewayApiCases))]
    public void ParseText_InvalidGatewayApiObject_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    [Theory]
    [MemberData(nameof(KubernetesCases))]
    public void ParseText_InvalidKubernetesObject_ReportsExactErrors(string name, string yaml, string expected) => AssertRefused(name, yaml, expected);

    // Found by fuzzing (fuzz/README.md): a label with nothing after it (null) threw NullReferenceException from the
    // label check. Kubernetes reads it as the empty string, a valid label value; the key is still checked.
    [Fact]
    public void ParseText_NullLabelValueInASelector_ReadAsEmpty()
    {
        const string yaml = """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: np
            spec:
              podSelector: {}
              policyTypes: [Egress]
              egress:
              - to:
                - namespaceSelector:
                    matchLabels:
                      app:
                  podSelector:
                    matchLabels:
                      "bad key!":
            """;

        var result = ResourceParser.ParseText(yaml, Source);

        Assert.False(result.Ok);
        var error = Assert.Single(result.Errors);
        Assert.Contains("spec.egress[0].to[0].podSelector.matchLabels", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("bad key!", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ParseText_TcpRoute_ParsedAsTheGatewayApiKind()
    {
        const string yaml = """
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: TCPRoute
            metadata:
              name: db
            spec:
              parentRefs:
              - name: cnn-egress-gateway
                sectionName: tcp
              rules:
              - backendRefs:
                - {name: db, port: 9000, weight: 2}
            """;

        var result = ResourceParser.ParseText(yaml, Source);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var route = Assert.Single(result.Resources);
        Assert.Equal(ResourceTypes.TcpRoute, route.Type);
        Assert.Equal(ResourceTypes.TcpRoute, ResourceTypes.Find(ResourceTypes.GatewayApiGroup, "TCPRoute"));
    }

    [Fact]
    public void ParseText_RouteWithoutParentRefs_TcpRouteJudgedAsTlsRoute()
    {
        static string Route(string kind) => $$"""
            apiVersion: gateway.networking.k8s.io/v1alpha2
            kind: {{kind}}
            metadata:
              name: r
            spec:
              rules:
              - backendRefs:
                - {name: db, port: 9000}
            """;

        var tls = ResourceParser.ParseText(Route("TLSRoute"), Source);
        var tcp = ResourceParser.ParseText(Route("TCPRoute"), Source);

        Assert.Equal(tls.Ok, tcp.Ok);
        Assert.Equal(tls.Errors.Count, tcp.Errors.Count);
    }

    [Fact]
    public void ParseText_NamespaceOtherThanEnforcedOne_ReportsMismatch()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
              namespace: default
            spec:
              hosts: [edition.cnn.com]
            """;

        var enforced = ResourceParser.ParseText(yaml, Source, defaultNamespace: "prod", enforceNamespace: true);
        var notEnforced = ResourceParser.ParseText(yaml, Source, defaultNamespace: "prod");

        Assert.False(enforced.Ok);
        Assert.Empty(enforced.Resources);
        Assert.Equal(
            "ServiceEntry default/cnn (stdin, document 1, line 5): metadata.namespace: the namespace from the provided object \"default\" does not match the namespace \"prod\"; pass -n default, or remove metadata.namespace",
            Assert.Single(enforced.Errors).ToString());
        Assert.True(notEnforced.Ok, string.Join("\n", notEnforced.Errors));
        Assert.Equal("default", Assert.Single(notEnforced.Resources).Namespace);
    }

    [Fact]
    public void ParseText_SecondOfThreeDocumentsInvalid_KeepsTheOthersAndNamesDocument2()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              ports:
              - {number: 80, name: http, protocol: HTTP}
              resolution: DNS
            ---
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata:
              name: istio-egressgateway
            spec:
              selector:
                istio: egressgateway
              servers:
              - port: {number: 443, name: tls, protocol: TLS}
                hosts: [edition.cnn.com]
            ---
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata:
              name: egressgateway-for-cnn
            spec:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subsets:
              - name: cnn
            """;

        var result = ResourceParser.ParseText(yaml, Source);

        Assert.False(result.Ok);
        Assert.Equal(2, result.Resources.Count);
        Assert.Equal(["ServiceEntry/cnn", "DestinationRule/egressgateway-for-cnn"],
            result.Resources.Select(r => $"{r.Type.Kind}/{r.Name}"));
        Assert.Equal(
            "Gateway default/istio-egressgateway (stdin, document 2, line 19): spec.servers[0].tls: server must have TLS settings for TLS protocols; add tls.mode (PASSTHROUGH to route by SNI without terminating)",
            Assert.Single(result.Errors).ToString());
    }

    [Fact]
    public void ParseText_LegacyGatewayNameFormat_IsAcceptedWithWarning()
    {
        const string yaml = """
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: cnn
            spec:
              hosts: [edition.cnn.com]
              gateways: [istio-egressgateway.istio-system, mesh]
              http:
              - route:
                - destination: {host: edition.cnn.com}
            """;

        var result = ResourceParser.ParseText(yaml, Source);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Single(result.Resources);
        var warning = Assert.Single(result.Errors);
        Assert.True(warning.IsWarning);
        Assert.Equal(
            "VirtualService default/cnn (stdin, document 1, line 7): spec.gateways[0]: \"istio-egressgateway.istio-system\" uses the legacy NAME.NAMESPACE form; prefer NAMESPACE/NAME: \"istio-system/istio-egressgateway\"",
            warning.ToString());
    }

    [Theory]
    [InlineData("UDP", 53, "Meshgate does not implement protocol \"UDP\" (it serves HTTP, HTTPS, TLS, TCP): the Gateway is stored, but this listener is not programmed (its status says Accepted False, reason UnsupportedProtocol)")]
    [InlineData("HBONE", 15008, "Meshgate does not implement protocol \"HBONE\" (it serves HTTP, HTTPS, TLS, TCP): the Gateway is stored, but this listener is not programmed (its status says Accepted False, reason UnsupportedProtocol)")]
    [InlineData("example.com/quic", 443, "Meshgate does not implement protocol \"example.com/quic\" (it serves HTTP, HTTPS, TLS, TCP): the Gateway is stored, but this listener is not programmed (its status says Accepted False, reason UnsupportedProtocol)")]
    [InlineData("http", 8080, "Meshgate does not implement protocol \"http\" (it serves HTTP, HTTPS, TLS, TCP): the Gateway is stored, but this listener is not programmed (its status says Accepted False, reason UnsupportedProtocol); protocol names are upper-case: did you mean HTTP?")]
    public void ParseText_ListenerProtocolTheApiAllowsButMeshgateLacks_IsStoredWithWarning(string protocol, int port, string warning)
    {
        // Gateway API's ProtocolType pattern admits these; an implementation without them marks the listener
        // Accepted False (UnsupportedProtocol) rather than refusing the Gateway, so apply stores it too.
        var yaml = $$"""
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata:
              name: cnn-egress-gateway
            spec:
              gatewayClassName: istio
              listeners:
              - {name: http, hostname: edition.cnn.com, port: 80, protocol: HTTP}
              - {name: other, port: {{port}}, protocol: {{protocol}}}
            """;

        var result = ResourceParser.ParseText(yaml, Source);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("cnn-egress-gateway", Assert.Single(result.Resources).Name);
        var error = Assert.Single(result.Errors);
        Assert.True(error.IsWarning);
        Assert.Equal($"Gateway default/cnn-egress-gateway (stdin, document 1, line 9): spec.listeners[1].protocol: {warning}", error.ToString());
    }

    [Fact]
    public void ParseText_ByteOrderMarkBeforeFirstKey_IsIgnored()
    {
        var result = ResourceParser.ParseText("\uFEFFapiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sleep\n", Source);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal("ServiceAccount", Assert.Single(result.Resources).Type.Kind);
    }

    public static TheoryData<string, string> GarbageInputs()
    {
        var laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
        for (var i = 1; i <= 9; i++)
        {
            laughs += $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 10))}]\n";
        }

        var merges = "m0: &m0 {a: 1, b: 2}\n";
        for (var i = 1; i <= 30; i++)
        {
            merges += $"m{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: 1}}\n";
        }

        var megabyte = new string('x', 1 << 20);
        return new TheoryData<string, string>
        {
            { "empty", "" },
            { "separator only", "---" },
            { "separators and comments", "---\n# nothing here\n---\n...\n" },
            { "open brace", "{" },
            { "open bracket", "[" },
            { "colon", ":" },
            { "null", "null" },
            { "number", "42" },
            { "boolean", "true" },
            { "control characters", "apiVersion: v1\u0000\u0001\u0002kind: \u001b[31mService\u007f\n" },
            { "every 8-bit character", new string(Enumerable.Range(0, 256).Select(i => (char)i).ToArray()) },
            { "lone surrogate", "apiVersion: v1\nkind: \uD800\nmetadata: {name: x}\n" },
            { "10,000 nested lists", new string('[', 10_000) },
            { "10,000 nested maps", string.Concat(Enumerable.Repeat("{a: ", 10_000)) },
            { "3,000 nested block mappings", string.Concat(Enumerable.Range(0, 3_000).Select(i => new string(' ', i) + "a:\n")) },
            { "billion laughs, 9 levels of aliases", laughs },
            { "merge-key bomb", merges },
            { "unclosed flow list", "spec:\n  hosts: [a, b\n  ports: 1\n" },
            { "alias to a missing anchor", "spec: *nothing\n" },
            { "complex mapping key", "? [a, b]\n: c\n" },
            { "binary tag", "!!binary aGVsbG8=\n" },
            { "List with junk items", "apiVersion: v1\nkind: List\nitems: [1, null, [], {kind: Service}, {apiVersion: v1}]\n" },
            { "1 MB host name", $"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {{name: big}}\nspec:\n  hosts: [{megabyte}]\n" },
            { "1 MB object name", $"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {megabyte}\n" },
            { "1 MB field name", $"apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sleep}}\n{megabyte}: 1\n" },
            { "integer beyond 64 bits", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{port: 99999999999999999999999999}]\n" },
            { "odd targetPort values", "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  ports: [{name: a, port: 80, targetPort: 1.5}, {name: b, port: 81, targetPort: true}, {name: c, port: 82, targetPort: -1}]\n" },
            { "odd timestamps", "apiVersion: v1\nkind: Secret\nmetadata: {name: s, creationTimestamp: \"2024-01-01\", deletionTimestamp: \"1/2/2024 10:00\"}\ndata: {a: \"!!\"}\n" },
            { "nonsense quantity", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: i, resources: {limits: {cpu: lots}}}]\n" },
        };
    }

    [Theory]
    [MemberData(nameof(GarbageInputs))]
    public void ParseText_GarbageInput_ReturnsErrorsWithoutThrowing(string name, string input)
    {
        var result = ResourceParser.ParseText(input, Source);

        Assert.True(result.Resources.Count == 0 || !result.Ok, name);
        Assert.All(result.Errors, e => Assert.True(e.ToString().Length < 2_000, $"{name}: an error message of {e.ToString().Length} characters"));
    }

    private static void AssertRefused(string name, string yaml, string expected)
    {
        var result = ResourceParser.ParseText(yaml, Source);

        Assert.False(result.Ok, name);
        Assert.Empty(result.Resources);
        Assert.Equal(expected, string.Join("\n", result.Errors));
    }
}
