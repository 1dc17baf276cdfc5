using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Api;

/// <summary>
/// Every failure answers with a Kubernetes <c>Status</c> body, never an empty page or a stack trace:
/// malformed request bodies are the client's fault (400), anything else is logged and reported as 500.
/// </summary>
public static partial class ErrorHandling
{
    public static void Use(IApplicationBuilder app, ILogger logger)
    {
        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e)
            {
                await WriteAsync(context, new Status(Describe(e), "BadRequest", e.StatusCode));
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Log.Unhandled(logger, context.Request.Method, context.Request.Path, e);
                await WriteAsync(context, new Status($"internal error: {e.Message}", "InternalError", 500));
                return;
            }

            if (context.Response is { HasStarted: false, StatusCode: >= 400 } response && response.ContentType is null)
            {
                var reason = response.StatusCode switch
                {
                    404 => "NotFound",
                    405 => "MethodNotAllowed",
                    415 => "UnsupportedMediaType",
                    _ => "BadRequest",
                };
                await WriteAsync(context, new Status($"{context.Request.Method} {context.Request.Path}: {reason} (send JSON with content-type application/json)", reason, response.StatusCode));
            }
        });
    }

    private static string Describe(BadHttpRequestException e) =>
        e.InnerException is JsonException json ? $"request body is not valid JSON: {json.Message}" : e.Message;

    private static Task WriteAsync(HttpContext context, Status status)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = status.Code;
        return context.Response.WriteAsJsonAsync(status, ApiJson.Options);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Error, "{Method} {Path} failed")]
        public static partial void Unhandled(ILogger logger, string method, string path, Exception exception);
    }
}
