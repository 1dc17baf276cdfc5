using Meshgate.Core.Resources;
using Meshgate.Core.Translation;

namespace Meshgate.ControlPlane.Identity;

/// <summary>
/// What identity a token entitles its bearer to, checked against the store now: the pod it is bound to must still
/// exist with the same uid (a deleted or recreated pod's token is a replay) and run as the token's service account.
/// The identity is <c>spiffe://&lt;trustDomain&gt;/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>, the trust domain from the mesh config.
/// </summary>
public static class WorkloadEntitlement
{
    public static (string? Identity, string? Refusal) Check(BoundPod pod, ResourceSet resources)
    {
        if (resources.Get(new ObjectKey(ResourceTypes.Pod, pod.Namespace, pod.Name)) is not { } stored)
        {
            return (null, $"pod {pod.Namespace}/{pod.Name} the token is bound to no longer exists");
        }

        var uid = stored.Metadata["uid"]?.GetValue<string>();
        if (uid != pod.Uid)
        {
            return (null, $"pod {pod.Namespace}/{pod.Name} was recreated since the token was issued (uid {uid ?? "none"}, token for {pod.Uid})");
        }

        var serviceAccount = stored.Json["spec"]?["serviceAccountName"]?.GetValue<string>() ?? "default";
        if (serviceAccount != pod.ServiceAccount)
        {
            return (null, $"pod {pod.Namespace}/{pod.Name} runs as service account {serviceAccount}, the token names {pod.ServiceAccount}");
        }

        var mesh = Translator.MeshSettingsFrom(resources);
        return (MeshSettings.SpiffeIdentity(mesh.TrustDomain, pod.Namespace, pod.ServiceAccount), null);
    }
}
