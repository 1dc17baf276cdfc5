using Meshgate.ControlPlane.Api.Kubernetes;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// Request bodies in Kubernetes' protobuf encoding (<see cref="KubernetesProtobuf.Decode"/>): a body that is not one,
/// or not one of a kind read here, is an <see cref="ApiError"/> (400 or 415); nothing else may escape.
/// </summary>
public static class KubernetesProtobufTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        try
        {
            _ = KubernetesProtobuf.Decode(input.ToArray()).ToJsonString();
        }
        catch (ApiError)
        {
        }
    }
}
