using System.Collections.Frozen;
using Meshgate.Core.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Meshgate.Proxy.Forwarding;

/// <summary>
/// Carries out a route's compiled actions (<see cref="CompiledRouteActions"/>) at the points Envoy's router and CORS
/// filter do: a CORS preflight answered before routing goes upstream, the path rewritten and headers changed on the
/// request sent upstream (the weighted cluster's changes first, then the route's, so the route's win), headers changed
/// on the response (the same order), and CORS headers added to it. Only routes that have actions get here.
/// </summary>
internal static class RouteActionSteps
{
    // HttpClient keeps these on the content, not the request: changing them goes there.
    private static readonly FrozenSet<string> ContentHeaders = FrozenSet.ToFrozenSet(
        ["allow", "content-disposition", "content-encoding", "content-language", "content-length", "content-location", "content-md5", "content-range", "content-type", "expires", "last-modified"],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Envoy's CORS filter on the request. True when the proxy answered it (a preflight): a preflight from an allowed
    /// origin gets the policy's answer, one from another origin is answered without CORS headers when the policy
    /// ignores unmatched preflights (else it goes upstream). An allowed origin of an actual request is noted for the
    /// response (<see cref="ForwardingTransformer.CorsOrigin"/>).
    /// </summary>
    public static bool AnswerPreflight(ProxyRequest request, CompiledCors cors)
    {
        var context = request.Http;
        var origin = context.Request.Headers.Origin;
        if (origin.Count != 1 || string.IsNullOrEmpty(origin[0]))
        {
            return false;
        }

        var allowed = cors.Allows(origin[0]);
        var preflight = HttpMethods.IsOptions(context.Request.Method) && context.Request.Headers.ContainsKey(HeaderNames.AccessControlRequestMethod);
        if (!preflight)
        {
            request.Transformer.CorsOrigin = allowed ? origin[0] : null;
            return false;
        }

        if (!allowed && !cors.IgnoreUnmatchedPreflights)
        {
            return false;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentLength = 0;
        if (allowed)
        {
            var headers = context.Response.Headers;
            headers.AccessControlAllowOrigin = origin[0];
            SetIfAny(headers, HeaderNames.AccessControlAllowMethods, cors.AllowMethods);
            SetIfAny(headers, HeaderNames.AccessControlAllowHeaders, cors.AllowHeaders);
            SetIfAny(headers, HeaderNames.AccessControlMaxAge, cors.MaxAge);
            if (cors.AllowCredentials)
            {
                headers.AccessControlAllowCredentials = "true";
            }
        }

        return true;
    }

    /// <summary>The path rewrite and request header changes, on the request about to go upstream.</summary>
    public static void Request(HttpContext context, HttpRequestMessage proxyRequest, string destinationPrefix, CompiledRouteActions actions, int clusterIndex)
    {
        if (actions.RewritesPath)
        {
            // Envoy rewrites the path alone; the query goes on unchanged.
            var path = actions.RewritePath(context.Request.Path.Value ?? "/");
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, new PathString(path), context.Request.QueryString);
        }

        if (actions.ClusterRequestHeaders(clusterIndex) is { } cluster)
        {
            Apply(cluster, proxyRequest);
        }

        if (actions.RequestHeaders is { } route)
        {
            Apply(route, proxyRequest);
        }
    }

    /// <summary>The response header changes and CORS headers, on the upstream's response before it goes downstream.</summary>
    public static void Response(HttpContext context, CompiledRouteActions actions, int clusterIndex, string? corsOrigin)
    {
        var headers = context.Response.Headers;
        if (actions.ClusterResponseHeaders(clusterIndex) is { } cluster)
        {
            Apply(cluster, headers);
        }

        if (actions.ResponseHeaders is { } route)
        {
            Apply(route, headers);
        }

        if (corsOrigin is not null && actions.Cors is { } cors)
        {
            headers.AccessControlAllowOrigin = corsOrigin;
            if (cors.AllowCredentials)
            {
                headers.AccessControlAllowCredentials = "true";
            }

            SetIfAny(headers, HeaderNames.AccessControlExposeHeaders, cors.ExposeHeaders);
        }
    }

    /// <summary>Remove, then set (overwrite), then add (append), as Envoy's header parser evaluates a level.</summary>
    public static void Apply(HeaderSteps steps, HttpRequestMessage message)
    {
        foreach (var name in steps.Remove)
        {
            Remove(message, name);
        }

        for (var i = 0; i < steps.SetNames.Length; i++)
        {
            Remove(message, steps.SetNames[i]);
            Add(message, steps.SetNames[i], steps.SetValues[i]);
        }

        for (var i = 0; i < steps.AddNames.Length; i++)
        {
            Add(message, steps.AddNames[i], steps.AddValues[i]);
        }
    }

    private static void Apply(HeaderSteps steps, IHeaderDictionary headers)
    {
        foreach (var name in steps.Remove)
        {
            headers.Remove(name);
        }

        for (var i = 0; i < steps.SetNames.Length; i++)
        {
            headers[steps.SetNames[i]] = steps.SetValues[i];
        }

        for (var i = 0; i < steps.AddNames.Length; i++)
        {
            headers.Append(steps.AddNames[i], steps.AddValues[i]);
        }
    }

    private static void Remove(HttpRequestMessage message, string name)
    {
        if (ContentHeaders.Contains(name))
        {
            message.Content?.Headers.Remove(name);
        }
        else
        {
            message.Headers.Remove(name);
        }
    }

    private static void Add(HttpRequestMessage message, string name, string value)
    {
        if (ContentHeaders.Contains(name))
        {
            message.Content?.Headers.TryAddWithoutValidation(name, value);
        }
        else
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }
    }

    private static void SetIfAny(IHeaderDictionary headers, string name, string? value)
    {
        if (value is not null)
        {
            headers[name] = value;
        }
    }
}
