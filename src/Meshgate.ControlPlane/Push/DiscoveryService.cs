using Grpc.Core;
using Meshgate.ControlPlane.Store;
using Meshgate.Discovery.V1;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Push;

/// <summary>
/// The discovery stream's server side (port 15010): registers the proxy's Pod, hands it to <see cref="PushService"/>,
/// writes what its outbox holds, and records each ACK and NACK. A bad node or a missing namespace ends the stream
/// with a status that says what to fix.
/// </summary>
internal sealed partial class DiscoveryService(PushService push, ResourceStore store, ControlPlaneOptions options, ILoggerFactory loggerFactory) : Discovery.V1.Discovery.DiscoveryBase
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("meshgate.controlplane.discovery");

    public override async Task Stream(IAsyncStreamReader<DiscoveryRequest> requestStream, IServerStreamWriter<DiscoveryResponse> responseStream, ServerCallContext context)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, push.Stopping);
        var cancellationToken = stop.Token;
        if (!await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var first = requestStream.Current;
        if (NodeMessage.Parse(first.Node, out var error) is not { } node)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, error!));
        }

        var registered = PodRegistration.PodFor(node, first.Node.AdminPort);
        try
        {
            if (store.Update(registered.Key, existing => PodRegistration.IsKubeletPod(existing) ? PodRegistration.Annotate(existing, registered) : registered) is null)
            {
                if (!options.RegistersUnknownPods)
                {
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, $"pod {node.Name} in namespace {node.Namespace} does not exist: its proxy is not registered"));
                }

                store.ApplyWithStatus(registered);
            }
        }
        catch (StoreException e) when (e.Code == 500 && store.Current.Get(registered.Key) is not null)
        {
            // The store cannot write (a full or read-only disk) but knows this pod: serve the proxy its configuration
            // with the Pod as stored, rather than leave it without a control plane until the disk is fixed.
            Log.RegistrationFailed(_logger, node.Name, node.Namespace, e.Message);
        }
        catch (StoreException e)
        {
            Log.RegistrationFailed(_logger, node.Name, node.Namespace, e.Message);
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"cannot register pod {node.Name} in namespace {node.Namespace}: {e.Message}"));
        }

        var connection = push.Connect(node, first.Node.AdminPort, first.Node.MeshgateVersion, first.Node.AcceptsDelta);
        using var sending = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sender = SendAsync(push, connection, responseStream, sending.Token);
        try
        {
            while (await requestStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                var request = requestStream.Current;
                var nack = request.ErrorDetail.Length > 0;
                if (connection.Answered(request.VersionInfo, request.ResponseNonce, nack ? request.ErrorDetail : null, out var status) && nack)
                {
                    if (status.SentDelta)
                    {
                        // The whole snapshot needs no agreement on what the proxy runs; its answer is the one that counts.
                        Log.DeltaNacked(_logger, node.Name, node.Namespace, status.NackedVersion ?? "", request.ErrorDetail);
                        push.OfferWhole(connection);
                    }
                    else
                    {
                        Log.Nacked(_logger, node.Name, node.Namespace, status.NackedVersion ?? "", request.ErrorDetail);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (push.Stopping.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "the control plane is shutting down"));
        }
        finally
        {
            await sending.CancelAsync().ConfigureAwait(false);
            await sender.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            push.Disconnect(connection);
        }
    }

    private static async Task SendAsync(PushService push, ProxyConnection connection, IServerStreamWriter<DiscoveryResponse> responses, CancellationToken cancellationToken)
    {
        await foreach (var snapshot in connection.Outbox.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            // A few writes at a time (PushService.SendSlots); the newest snapshot is taken once a slot is free.
            await push.SendSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            var latest = connection.Outbox.TryRead(out var newer) ? newer : snapshot;
            var write = Task.CompletedTask;
            try
            {
                // Recorded before the write, so an ACK that comes back at once is not taken for a stale one.
                var asDelta = connection.TakesDelta(latest);
                connection.Sent(latest, asDelta);
                var response = new DiscoveryResponse { VersionInfo = latest.Version, Nonce = latest.Nonce };
                if (asDelta)
                {
                    response.BaseVersion = latest.Delta!.BaseVersion;
                    response.Delta = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(latest.Delta.Bytes); // never changed
                }
                else
                {
                    response.Snapshot = Google.Protobuf.UnsafeByteOperations.UnsafeWrap(latest.ToBytes()); // made for this write, never changed
                }

                write = responses.WriteAsync(response, cancellationToken);
                await write.WaitAsync(PushService.SendSlotHold, push.Time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // The proxy is slow to read: let others have the slot; the write goes on below.
            }
            finally
            {
                push.SendSlots.Release();
            }

            await write.ConfigureAwait(false);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "proxy {Name}.{Namespace} refused snapshot {Version}: {Error}")]
        public static partial void Nacked(ILogger logger, string name, string @namespace, string version, string error);

        [LoggerMessage(3, LogLevel.Information, "proxy {Name}.{Namespace} refused the delta for {Version} ({Error}); sending the whole snapshot")]
        public static partial void DeltaNacked(ILogger logger, string name, string @namespace, string version, string error);

        [LoggerMessage(2, LogLevel.Warning, "proxy {Name}.{Namespace} cannot be registered: {Reason}")]
        public static partial void RegistrationFailed(ILogger logger, string name, string @namespace, string reason);
    }
}
