using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Meshgate.ControlPlane.Api.Access;

/// <summary>
/// Every request to the resource API must carry the admin token (<c>Authorization: Bearer TOKEN</c>); anything else
/// is 401 with kube-apiserver's <c>Status</c> (reason <c>Unauthorized</c>), before routing, so GETs, writes, watches and
/// <c>pods/exec</c> upgrades are refused alike. Only <c>/healthz</c> and <c>/readyz</c> stay open: they answer
/// <c>ok</c> and nothing else, for supervisors that poll them.
/// </summary>
public static class ApiAuthentication
{
    /// <summary>kube-apiserver's answer to a request without valid credentials (what kubectl turns into "You must be logged in").</summary>
    public static readonly Status Unauthorized = new("Unauthorized", "Unauthorized", StatusCodes.Status401Unauthorized);

    public static void Use(IApplicationBuilder app, AdminToken token)
    {
        app.Use((context, next) =>
        {
            if (token.Accepts(context.Request.Headers.Authorization.Count == 1 ? context.Request.Headers.Authorization[0] : null)
                || IsHealthProbe(context.Request))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return context.Response.WriteAsJsonAsync(Unauthorized, ApiJson.Options);
        });
    }

    private static bool IsHealthProbe(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && request.Path.Value is "/healthz" or "/readyz";
}
