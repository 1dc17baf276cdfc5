using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Identity;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// Kubernetes' TokenRequest (<c>POST /api/v1/namespaces/NS/serviceaccounts/SA/token</c>, authentication.k8s.io/v1):
/// a token for the service account bound to a pod (<c>spec.boundObjectRef</c>, kind Pod, which must exist and run as
/// that service account), as kubelet asks for the projected token a pod's istio-agent presents to the CA.
/// </summary>
public static class TokenRequestApi
{
    /// <summary>Kubernetes' default (and the expiry kubelet asks for): one hour; at most a day.</summary>
    private static readonly TimeSpan DefaultLifetime = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(24);

    public static void Map(IEndpointRouteBuilder app, ResourceStore store, MeshIdentity identity) =>
        app.MapPost("/api/v1/namespaces/{ns}/serviceaccounts/{serviceAccount}/token", async (string ns, string serviceAccount, HttpContext context) =>
        {
            JsonNode? body;
            try
            {
                if (context.Request.ContentType?.StartsWith(Kubernetes.KubernetesProtobuf.ContentType, StringComparison.Ordinal) == true)
                {
                    // kubectl create token sends it in Kubernetes' protobuf encoding.
                    using var buffer = new MemoryStream();
                    await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
                    body = Kubernetes.KubernetesProtobuf.Decode(buffer.ToArray());
                }
                else
                {
                    body = await ApiJson.ParseBodyAsync(context.Request.Body, context.RequestAborted).ConfigureAwait(false);
                }
            }
            catch (System.Text.Json.JsonException e)
            {
                return Bad($"the TokenRequest is not JSON: {e.Message}");
            }
            catch (Kubernetes.ApiError e)
            {
                return Bad(e.Status.Message);
            }

            string? kind, podName, askedUid;
            long? askedSeconds;
            List<string>? askedAudiences;
            try
            {
                var spec = body?["spec"];
                var bound = spec?["boundObjectRef"];
                kind = bound?["kind"]?.GetValue<string>();
                podName = bound?["name"]?.GetValue<string>();
                askedUid = bound?["uid"]?.GetValue<string>();
                askedSeconds = spec?["expirationSeconds"]?.GetValue<long>();
                askedAudiences = (spec?["audiences"] as JsonArray)?.Select(a => a?.GetValue<string>()).OfType<string>().ToList();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                // A body that is not an object, or a field of another type (a number where a name goes): the client's
                // mistake (400), not the server's (500).
                return Bad($"the TokenRequest is not valid: {e.Message}");
            }

            if (kind != "Pod" || podName is not { Length: > 0 })
            {
                return Bad("spec.boundObjectRef: a token is only issued bound to a pod: set kind: Pod and name (and uid)");
            }

            if (store.Current.Get(new ObjectKey(ResourceTypes.Pod, ns, podName)) is not { } pod)
            {
                return Bad($"spec.boundObjectRef: pod {ns}/{podName} does not exist; create it first", 404, "NotFound");
            }

            var uid = pod.Metadata["uid"]?.GetValue<string>() ?? "";
            if (askedUid is { Length: > 0 } && askedUid != uid)
            {
                return Bad($"spec.boundObjectRef.uid: pod {ns}/{podName} has uid {uid}, not {askedUid}", 409, "Conflict");
            }

            var podServiceAccount = pod.Json["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default";
            if (podServiceAccount != serviceAccount)
            {
                return Bad($"spec.boundObjectRef: pod {ns}/{podName} runs as service account {podServiceAccount}, not {serviceAccount}");
            }

            var seconds = askedSeconds ?? (long)DefaultLifetime.TotalSeconds;
            if (seconds < 600)
            {
                return Bad("spec.expirationSeconds: may not specify a duration less than 10 minutes (Kubernetes' minimum)");
            }

            var lifetime = TimeSpan.FromSeconds(Math.Min(seconds, (long)MaxLifetime.TotalSeconds));
            var audiences = askedAudiences is { Count: > 0 } ? askedAudiences : [ServiceAccountTokens.CaAudience];
            var token = identity.Tokens.Issue(new BoundPod(ns, serviceAccount, podName, uid), lifetime, audiences);
            var answer = new JsonObject
            {
                ["apiVersion"] = "authentication.k8s.io/v1",
                ["kind"] = "TokenRequest",
                ["metadata"] = new JsonObject { ["name"] = serviceAccount, ["namespace"] = ns },
                ["spec"] = new JsonObject
                {
                    ["audiences"] = new JsonArray([.. audiences.Select(a => (JsonNode)a)]),
                    ["expirationSeconds"] = (long)lifetime.TotalSeconds,
                    ["boundObjectRef"] = new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["name"] = podName, ["uid"] = uid },
                },
                ["status"] = new JsonObject
                {
                    ["token"] = token.Token,
                    ["expirationTimestamp"] = token.Expires.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                },
            };
            return Results.Text(answer.ToJsonString(), "application/json", statusCode: 201);
        });

    private static IResult Bad(string message, int code = 400, string reason = "BadRequest") =>
        Results.Json(new Status(message, reason, code), ApiJson.Options, statusCode: code);
}
