using Grpc.Core;
using Meshgate.ControlPlane.Store;
using Meshgate.Identity.V1;
using Microsoft.Extensions.Logging;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// istiod's CA endpoint (<c>IstioCertificateService.CreateCertificate</c>): a proxy sends a CSR with the token bound to
/// its pod; the certificate is issued for the identity that token entitles it to, and only over TLS. Every refusal is
/// logged with its reason (never the token) and answered with a status that says what to fix.
/// </summary>
internal sealed partial class CertificateService(MeshIdentity identity, TrustRollout trust, ResourceStore store, ILoggerFactory loggerFactory)
    : IstioCertificateService.IstioCertificateServiceBase
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("meshgate.controlplane.ca");

    public override async Task<IstioCertificateResponse> CreateCertificate(IstioCertificateRequest request, ServerCallContext context)
    {
        var peer = context.Peer;
        if (context.GetHttpContext().Request.IsHttps is false)
        {
            throw Refuse(StatusCode.PermissionDenied, peer, "-", "certificates are issued over TLS only: use the secure discovery port (15012)");
        }

        var authorization = context.RequestHeaders.GetValue("authorization");
        if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            throw Refuse(StatusCode.Unauthenticated, peer, "-", "no credential: send the token bound to the pod as \"authorization: Bearer <token>\"");
        }

        var (pod, refusal) = await identity.Tokens.ValidateAsync(authorization["Bearer ".Length..].Trim(), ServiceAccountTokens.CaAudience).ConfigureAwait(false);
        if (pod is null)
        {
            throw Refuse(StatusCode.Unauthenticated, peer, "-", refusal!);
        }

        var who = $"{pod.Namespace}/{pod.Name}";
        var (spiffe, notEntitled) = WorkloadEntitlement.Check(pod, store.Current);
        if (spiffe is null)
        {
            throw Refuse(StatusCode.PermissionDenied, peer, who, notEntitled!);
        }

        var lifetime = identity.Lifetime(request.ValidityDuration);
        IssuedCertificate issued;
        var authority = identity.Authority; // read once: a change of root may switch it meanwhile
        try
        {
            issued = authority.Issue(request.Csr, spiffe, lifetime);
            trust.Issued(authority.SignerFingerprint, new DateTimeOffset(issued.NotAfter, TimeSpan.Zero));
        }
        catch (CertificateRequestException e)
        {
            throw Refuse(StatusCode.PermissionDenied, peer, who, e.Message);
        }

        Log.Issued(_logger, spiffe, who, issued.SerialNumber, issued.NotAfter);
        var response = new IstioCertificateResponse();
        response.CertChain.AddRange(issued.Chain);
        return response;
    }

    private RpcException Refuse(StatusCode code, string peer, string pod, string reason)
    {
        Log.Refused(_logger, peer, pod, reason);
        return new RpcException(new Status(code, reason));
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "ca: issued {Identity} to pod {Pod} (serial {Serial}, expires {NotAfter:O})")]
        public static partial void Issued(ILogger logger, string identity, string pod, string serial, DateTime notAfter);

        [LoggerMessage(2, LogLevel.Warning, "ca: refused a certificate request from {Peer} (pod {Pod}): {Reason}")]
        public static partial void Refused(ILogger logger, string peer, string pod, string reason);
    }
}
