using Grpc.Core;
using Meshgate.Trust.V1;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// The trust stream's server side (proto/trust.proto): sends each proxy the bundle in force, and every newer one, and
/// hands its reports (the bundle it has in force, the CA of its certificate) to <see cref="TrustRollout"/>.
/// </summary>
internal sealed class TrustService(TrustRollout rollout) : TrustDistribution.TrustDistributionBase
{
    public override async Task Watch(IAsyncStreamReader<TrustReport> requestStream, IServerStreamWriter<TrustBundle> responseStream, ServerCallContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, rollout.Stopping);
        var cancellationToken = stop.Token;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var first = requestStream.Current;
        if (first.Name.Length == 0 || first.Namespace.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, "the first trust report names the proxy's pod: name and namespace are required"));
        }

        var subscriber = rollout.Subscribe(first.Name, first.Namespace);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sender = SendAsync(subscriber, responseStream, sending.Token);
        try
        {
            rollout.Reported(subscriber, first);
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                rollout.Reported(subscriber, requestStream.Current);
            }
        }
        catch (OperationCanceledException) when (rollout.Stopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the control plane is shutting down"));
        }
        finally
        {
            rollout.Unsubscribe(subscriber);
            await sending.CancelAsync().ConfigureAwait(false);
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task SendAsync(TrustSubscriber subscriber, IServerStreamWriter<TrustBundle> responses, CancellationToken cancellationToken)
    {
        await foreach (var bundle in subscriber.Outbox.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await responses.WriteAsync(bundle, cancellationToken).ConfigureAwait(false);
        }
    }
}
