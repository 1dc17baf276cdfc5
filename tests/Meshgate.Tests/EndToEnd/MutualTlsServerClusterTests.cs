using System.Text.RegularExpressions;
using Meshgate.Tests.Capture;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>
/// Istio's "Egress Gateways with TLS Origination", its mutual-TLS half, in the local cluster as the page writes it: the
/// page's openssl commands, namespace mesh-external, Secrets nginx-server-certs and nginx-ca-certs and ConfigMap
/// nginx-configmap made with <c>kubectl create</c>, and my-nginx as a Deployment of <c>image: nginx</c> whose volumes
/// put the page's nginx.conf at <c>/etc/nginx</c> and the certificates at <c>/etc/nginx-server-certs</c> and
/// <c>/etc/nginx-ca-certs</c>; then the client credential, Gateway, DestinationRules and VirtualService, and the page's
/// <c>kubectl exec "$SOURCE_POD" -c sleep -- curl -sS http://my-nginx.mesh-external.svc.cluster.local</c>, which prints
/// nginx's welcome page only when the egress gateway presented the client certificate nginx requires.
/// </summary>
[Collection(LocalClusterCollection.Name)]
public sealed class MutualTlsServerClusterTests
{
    private const string SourcePod = "export SOURCE_POD=$(kubectl get pod -l app=sleep -o jsonpath={.items..metadata.name})\n";

    [RootFact]
    public async Task MutualTlsOriginationPage_NginxDeploymentWithVolumes_CurlGetsTheWelcomePage()
    {
        ExternalTools.Require("openssl");
        await using var cluster = await LocalClusterRun.StartAsync();

        // "Generate client and server certificates and keys", as the page writes it.
        await cluster.StepAsync("""
            openssl req -x509 -sha256 -nodes -days 365 -newkey rsa:2048 -subj '/O=example Inc./CN=example.com' -keyout example.com.key -out example.com.crt
            openssl req -out my-nginx.mesh-external.svc.cluster.local.csr -newkey rsa:2048 -nodes -keyout my-nginx.mesh-external.svc.cluster.local.key -subj "/CN=my-nginx.mesh-external.svc.cluster.local/O=some organization"
            openssl x509 -req -sha256 -days 365 -CA example.com.crt -CAkey example.com.key -set_serial 0 -in my-nginx.mesh-external.svc.cluster.local.csr -out my-nginx.mesh-external.svc.cluster.local.crt
            openssl req -out client.example.com.csr -newkey rsa:2048 -nodes -keyout client.example.com.key -subj "/CN=client.example.com/O=client organization"
            openssl x509 -req -sha256 -days 365 -CA example.com.crt -CAkey example.com.key -set_serial 1 -in client.example.com.csr -out client.example.com.crt
            """);

        // "Deploy a mutual TLS server".
        await cluster.StepAsync($$"""
            kubectl create namespace mesh-external
            kubectl create -n mesh-external secret tls nginx-server-certs --key my-nginx.mesh-external.svc.cluster.local.key --cert my-nginx.mesh-external.svc.cluster.local.crt
            kubectl create -n mesh-external secret generic nginx-ca-certs --from-file=example.com.crt
            cat <<\EOF > ./nginx.conf
            events {
            }

            http {
              log_format main '$remote_addr - $remote_user [$time_local]  $status '
              '"$request" $body_bytes_sent "$http_referer" '
              '"$http_user_agent" "$http_x_forwarded_for"';
              access_log /var/log/nginx/access.log main;
              error_log  /var/log/nginx/error.log;

              server {
                listen 443 ssl;

                root /usr/share/nginx/html;
                index index.html;

                server_name my-nginx.mesh-external.svc.cluster.local;
                ssl_certificate /etc/nginx-server-certs/tls.crt;
                ssl_certificate_key /etc/nginx-server-certs/tls.key;
                ssl_client_certificate /etc/nginx-ca-certs/example.com.crt;
                ssl_verify_client on;
              }
            }
            EOF
            kubectl create configmap nginx-configmap -n mesh-external --from-file=nginx.conf=./nginx.conf
            kubectl apply -f - < {{Page("deploy_a_mutual_tls_server_5")}}
            """);
        var pods = await cluster.WaitForAsync("kubectl get pod -n mesh-external -l run=my-nginx", o => Regex.IsMatch(o, @"my-nginx-\S+\s+1/1\s+Running"), "my-nginx's pod");

        // The container sees the volumes where the page mounts them, and nothing of them lands on this machine.
        var nginxPod = Regex.Match(pods, @"my-nginx-\S+").Value;
        var (exitCode, inside) = await Bash.RunAsync($"cat /proc/$(ip netns pids mgk-mesh-external.{nginxPod} | head -1)/mountinfo");
        Assert.True(exitCode == 0, inside);
        Assert.Matches(@" /etc/nginx ro,", inside);
        Assert.Matches(@" /etc/nginx-server-certs ro,", inside);
        Assert.Matches(@" /etc/nginx-ca-certs ro,", inside);
        Assert.False(Directory.Exists("/etc/nginx-server-certs"), "the mount point was made on the machine's own /etc");

        // "Configure mutual TLS origination for egress traffic", Istio APIs tab.
        await cluster.StepAsync($$"""
            kubectl create secret -n istio-system generic client-credential --from-file=tls.key=client.example.com.key --from-file=tls.crt=client.example.com.crt --from-file=ca.crt=example.com.crt
            kubectl apply -f - < {{Page("configure_mutual_tls_origination_for_egress_traffic_3")}}
            kubectl apply -f - < {{Page("configure_mutual_tls_origination_for_egress_traffic_5")}}
            kubectl apply -n istio-system -f - < {{Page("configure_mutual_tls_origination_for_egress_traffic_7")}}
            """);

        // The page: the welcome page of nginx, which answers only a client with a certificate from example.com's CA.
        // (The proxies' last log lines go to stderr: shown if the page's output never comes.)
        var welcome = await cluster.WaitForAsync(SourcePod + "kubectl exec \"$SOURCE_POD\" -c sleep -- curl -sS http://my-nginx.mesh-external.svc.cluster.local\n"
            + "{ kubectl logs -l app=sleep -c istio-proxy | tail -3; kubectl logs -l istio=egressgateway -n istio-system | tail -3; } >&2",
            o => o.Contains("<title>Welcome to nginx!</title>", StringComparison.Ordinal), "nginx's welcome page through the egress gateway");
        Assert.StartsWith("<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>", welcome, StringComparison.Ordinal);

        // The page: the gateway's log line for the request, to my-nginx's pod on 443.
        var log = await cluster.WaitForAsync("kubectl logs -l istio=egressgateway -n istio-system | grep 'my-nginx.mesh-external.svc.cluster.local' | grep HTTP",
            o => o.Contains("\"GET / HTTP/", StringComparison.Ordinal), "the gateway's log line");
        Assert.Matches("""\] "GET / HTTP/[12.]+" 200 - via_upstream - "-" 0 \d+ \d+ \d+ "10\.244\.\d+\.\d+" "curl/[^"]+" "[0-9a-f-]{36}" "my-nginx\.mesh-external\.svc\.cluster\.local" "10\.244\.\d+\.\d+:443" outbound\|443\|\|my-nginx\.mesh-external\.svc\.cluster\.local """, log);

        // nginx logged the request (access.log is its stdout, as in the image) with the client's certificate checked.
        var nginxLog = await cluster.WaitForAsync("kubectl logs -l run=my-nginx -n mesh-external", o => o.Contains("\"GET / HTTP/", StringComparison.Ordinal), "nginx's access log");
        Assert.Matches(@"200 ""GET / HTTP/1\.1"" 615 ", nginxLog);

        // Without the client certificate nginx refuses: the origination is what makes it answer.
        await cluster.StepAsync("kubectl delete destinationrule originate-mtls-for-nginx -n istio-system");
        await cluster.WaitForAsync(SourcePod + "kubectl exec \"$SOURCE_POD\" -c sleep -- curl -sS http://my-nginx.mesh-external.svc.cluster.local",
            o => !o.Contains("Welcome to nginx!", StringComparison.Ordinal), "a refusal without the client certificate");

        // The page's cleanup: deleting the Deployment stops nginx and removes its volumes.
        await cluster.StepAsync("""
            kubectl delete secret nginx-server-certs nginx-ca-certs -n mesh-external
            kubectl delete configmap nginx-configmap -n mesh-external
            kubectl delete service my-nginx -n mesh-external
            kubectl delete deployment my-nginx -n mesh-external
            kubectl delete namespace mesh-external
            """);
        await cluster.WaitForAsync("ls data/cluster/volumes/mesh-external 2>/dev/null | wc -l", o => o.Trim() == "0", "my-nginx's volumes to be removed");
    }

    private static string Page(string section) =>
        Path.Combine(TestPaths.TestData, "IstioDocs", $"egress-gateway-tls-origination--{section}.yaml");
}
