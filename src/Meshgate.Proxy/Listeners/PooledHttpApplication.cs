using Meshgate.Proxy.Forwarding;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Abstractions;
using Microsoft.AspNetCore.Http.Features;

namespace Meshgate.Proxy.Listeners;

/// <summary>
/// What Kestrel calls for each request: a <see cref="ProxyRequest"/> reused for every request of a connection
/// (HTTP/1.1) or stream (HTTP/2) through Kestrel's <see cref="IHostContextContainer{TContext}"/>, the way ASP.NET's
/// HostingApplication pools its contexts, then the handler. No middleware pipeline, no request services.
/// </summary>
internal sealed class PooledHttpApplication(Func<ProxyRequest, Task> handler) : IHttpApplication<ProxyRequest>
{
    public ProxyRequest CreateContext(IFeatureCollection contextFeatures)
    {
        if (contextFeatures is not IHostContextContainer<ProxyRequest> container)
        {
            return new ProxyRequest(contextFeatures);
        }

        if (container.HostContext is { } pooled)
        {
            pooled.Reuse(contextFeatures);
            return pooled;
        }

        return container.HostContext = new ProxyRequest(contextFeatures);
    }

    public Task ProcessRequestAsync(ProxyRequest context) => handler(context);

    public void DisposeContext(ProxyRequest context, Exception? exception) => context.Http.Uninitialize();
}
