using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Meshgate.ControlPlane.Api.Access;

/// <summary>
/// What each listener serves, decided before routing. On the resource API's listener every request must carry the
/// admin token (<c>Authorization: Bearer TOKEN</c>); anything else is 401 with kube-apiserver's <c>Status</c> (reason
/// <c>Unauthorized</c>), so GETs, writes, watches and <c>pods/exec</c> upgrades are refused alike; only <c>GET
/// /healthz</c> and <c>GET /readyz</c> stay open (they answer <c>ok</c> and nothing else, for supervisors that poll
/// them). The discovery listeners (15012 and the plaintext one), which pods can reach, serve the gRPC services
/// (discovery, certificates, trust bundle) and nothing else: the resource API is not reachable through them.
/// </summary>
public static class ListenerAccess
{
    /// <summary>kube-apiserver's answer to a request without valid credentials (what kubectl turns into "You must be logged in").</summary>
    public static readonly Status Unauthorized = new("Unauthorized", "Unauthorized", StatusCodes.Status401Unauthorized);

    private static readonly object ApiConnection = new();

    private static readonly string[] DiscoveryServices =
    [
        "/" + Meshgate.Discovery.V1.Discovery.Descriptor.FullName + "/",
        "/" + Meshgate.Identity.V1.IstioCertificateService.Descriptor.FullName + "/",
        "/" + Meshgate.Trust.V1.TrustDistribution.Descriptor.FullName + "/",
    ];

    /// <summary>Marks the connections of <paramref name="listen"/> as the resource API's.</summary>
    public static void MarkApiListener(ListenOptions listen) => listen.Use(next => connection =>
    {
        connection.Items[ApiConnection] = ApiConnection;
        return next(connection);
    });

    /// <param name="token">The admin token the API requires; null serves the API to anyone (in-process tests only).</param>
    public static void Use(IApplicationBuilder app, AdminToken? token)
    {
        app.Use((context, next) =>
        {
            if (!IsApiConnection(context))
            {
                if (IsDiscoveryService(context.Request.Path))
                {
                    return next(context);
                }

                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            if (token is null || IsHealthProbe(context.Request)
                || token.Accepts(context.Request.Headers.Authorization.Count == 1 ? context.Request.Headers.Authorization[0] : null))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return context.Response.WriteAsJsonAsync(Unauthorized, ApiJson.Options);
        });
    }

    private static bool IsApiConnection(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ApiConnection) == true;

    private static bool IsDiscoveryService(PathString path)
    {
        foreach (var service in DiscoveryServices)
        {
            if (path.Value?.StartsWith(service, StringComparison.Ordinal) == true)
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsHealthProbe(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Path.Value is "/healthz" or "/readyz";
}
