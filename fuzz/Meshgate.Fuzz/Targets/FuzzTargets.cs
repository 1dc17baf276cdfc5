namespace Meshgate.Fuzz.Targets;

/// <summary>Every fuzz target by the name fuzz/run.sh, fuzz/corpus/NAME and the tests use.</summary>
public static class FuzzTargets
{
    public static IReadOnlyDictionary<string, FuzzTarget> All { get; } = new Dictionary<string, FuzzTarget>(StringComparer.Ordinal)
    {
        ["clienthello"] = ClientHelloTarget.Run,
        ["connect"] = ConnectRequestTarget.Run,
        ["requesthead"] = RequestHeadTarget.Run,
        ["snapshot"] = SnapshotTarget.Run,
        ["delta"] = DeltaTarget.Run,
        ["resources"] = ResourcesTarget.Run,
        ["jsonpath"] = JsonPathTarget.Run,
        ["k8sprotobuf"] = KubernetesProtobufTarget.Run,
        ["patch"] = PatchTarget.Run,
    };
}
