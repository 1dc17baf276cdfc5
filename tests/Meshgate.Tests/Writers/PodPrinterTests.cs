using System.Text.Json.Nodes;
using Meshgate.Core.Printing;
using Xunit;

namespace Meshgate.Tests.Writers;

/// <summary><c>get pods</c>' READY, STATUS and RESTARTS, decided as kubectl's pod printer decides them.</summary>
public sealed class PodPrinterTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private const string TwoContainers = """ "spec": {"containers": [{"name": "sleep"}, {"name": "istio-proxy"}]} """;

    private const string InitSpec = """ "spec": {"initContainers": [{"name": "istio-init"}, {"name": "wait"}], "containers": [{"name": "sleep"}]} """;

    private const string Proxy = """ "spec": {"containers": [{"name": "istio-proxy", "image": "meshgate"}]} """;

    private const string Statuses = """
        "containerStatuses": [
          {"name": "sleep", "ready": true, "restartCount": 0, "state": {"running": {}}},
          {"name": "istio-proxy", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]
        """;

    /// <summary>The row of a pod written as JSON, where %TwoContainers%, %InitSpec%, %Proxy% and %Statuses% stand for those fragments.</summary>
    private static PodPrinter.Row Row(string json) => PodPrinter.Summarize(
        (JsonObject)JsonNode.Parse(json.Replace("%TwoContainers%", TwoContainers).Replace("%InitSpec%", InitSpec).Replace("%Proxy%", Proxy).Replace("%Statuses%", Statuses))!,
        Now);

    [Fact]
    public void RunningAndReadyContainersCount()
    {
        var row = Row("""
            { %TwoContainers%, "status": {"phase": "Running", "containerStatuses": [
              {"name": "sleep", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-01T11:00:00Z"}}},
              {"name": "istio-proxy", "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-03-01T11:00:00Z"}}}]}}
            """);
        Assert.Equal(new PodPrinter.Row("2/2", "Running", "0"), row);
    }

    [Fact]
    public void ARunningButUnreadyContainerIsNotCounted()
    {
        var row = Row("""
            { %TwoContainers%, "status": {"phase": "Running", "containerStatuses": [
              {"name": "sleep", "ready": true, "restartCount": 0, "state": {"running": {}}},
              {"name": "istio-proxy", "ready": false, "restartCount": 0, "state": {"running": {}}}]}}
            """);
        Assert.Equal(new PodPrinter.Row("1/2", "Running", "0"), row);
    }

    [Fact]
    public void CrashLoopBackOffWithRestartsAndWhenTheLastOneWas()
    {
        var row = Row("""
            { %TwoContainers%, "status": {"phase": "Running", "containerStatuses": [
              {"name": "sleep", "ready": false, "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s"}},
               "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2026-03-01T11:59:40Z"}}},
              {"name": "istio-proxy", "ready": true, "restartCount": 1, "state": {"running": {}},
               "lastState": {"terminated": {"exitCode": 137, "finishedAt": "2026-03-01T11:00:00Z"}}}]}}
            """);
        Assert.Equal(new PodPrinter.Row("1/2", "CrashLoopBackOff", "5 (20s ago)"), row);
    }

    [Fact]
    public void RestartsWithoutATerminationTimeAreJustTheNumber()
    {
        var row = Row("""
            { %TwoContainers%, "status": {"phase": "Running", "containerStatuses": [
              {"name": "sleep", "ready": true, "restartCount": 2, "state": {"running": {}}},
              {"name": "istio-proxy", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}
            """);
        Assert.Equal("2", row.Restarts);
    }

    [Fact]
    public void TheFirstContainersReasonWins()
    {
        var row = Row("""
            { %TwoContainers%, "status": {"phase": "Pending", "containerStatuses": [
              {"name": "sleep", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "ContainerCreating"}}},
              {"name": "istio-proxy", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
            """);
        Assert.Equal(new PodPrinter.Row("0/2", "ContainerCreating", "0"), row);
    }

    [Theory]
    [InlineData("""{"exitCode": 0, "reason": "Completed"}""", "Succeeded", "Completed")]
    [InlineData("""{"exitCode": 2, "reason": "Error"}""", "Failed", "Error")]
    [InlineData("""{"exitCode": 3}""", "Failed", "ExitCode:3")]
    [InlineData("""{"exitCode": 137, "signal": 9}""", "Failed", "Signal:9")]
    public void ATerminatedContainerGivesItsReason(string terminated, string phase, string status)
    {
        var row = Row("""
            { "spec": {"containers": [{"name": "job"}]}, "status": {"phase": "%phase%", "containerStatuses": [
              {"name": "job", "ready": false, "restartCount": 0, "state": {"terminated": %terminated%}}]}}
            """.Replace("%phase%", phase).Replace("%terminated%", terminated));
        Assert.Equal(new PodPrinter.Row("0/1", status, "0"), row);
    }

    [Fact]
    public void CompletedWhileAnotherStillRunsIsRunningOrNotReady()
    {
        Assert.Equal("Running", Row("""{ %TwoContainers%, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], %Statuses%}}""").Status);
        Assert.Equal("NotReady", Row("""{ %TwoContainers%, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}], %Statuses%}}""").Status);
    }

    [Fact]
    public void ADeletedPodIsTerminatingUnlessItHasFinished()
    {
        var running = """
            { "metadata": {"name": "a", "deletionTimestamp": "2026-03-01T11:59:00Z"}, %TwoContainers%, "status": {"phase": "Running", "containerStatuses": [
              {"name": "sleep", "ready": true, "restartCount": 0, "state": {"running": {}}},
              {"name": "istio-proxy", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}
            """;
        Assert.Equal(new PodPrinter.Row("2/2", "Terminating", "0"), Row(running));
        Assert.Equal("Succeeded", Row("""{"metadata": {"deletionTimestamp": "2026-03-01T11:59:00Z"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Succeeded"}}""").Status);
        Assert.Equal("Unknown", Row("""{"metadata": {"deletionTimestamp": "2026-03-01T11:59:00Z"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Running", "reason": "NodeLost"}}""").Status);
    }

    [Fact]
    public void InitContainersComeFirst()
    {
        Assert.Equal("Init:1/2", Row("""
            { %InitSpec%, "status": {"phase": "Pending", "initContainerStatuses": [
              {"name": "istio-init", "ready": true, "restartCount": 0, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
              {"name": "wait", "ready": false, "restartCount": 0, "state": {"running": {}}}],
              "containerStatuses": [{"name": "sleep", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}}
            """).Status);
        Assert.Equal("Init:CrashLoopBackOff", Row("""
            { %InitSpec%, "status": {"phase": "Pending", "initContainerStatuses": [
              {"name": "istio-init", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
              "containerStatuses": [{"name": "sleep", "ready": false, "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]}}
            """).Status);
        Assert.Equal("Init:Error", Row("""
            { %InitSpec%, "status": {"phase": "Pending", "initContainerStatuses": [
              {"name": "istio-init", "ready": false, "restartCount": 0, "state": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}}
            """).Status);
    }

    [Fact]
    public void ANativeSidecarCountsAsAContainer()
    {
        var row = Row("""
            { "spec": {"initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}], "containers": [{"name": "sleep"}]},
              "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "istio-proxy", "ready": true, "started": true, "restartCount": 1, "state": {"running": {}},
                  "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2026-03-01T10:00:00Z"}}}],
                "containerStatuses": [{"name": "sleep", "ready": true, "restartCount": 0, "state": {"running": {}}}]}}
            """);
        Assert.Equal(new PodPrinter.Row("2/2", "Running", "1 (120m ago)"), row);
    }

    [Fact]
    public void APodWithoutContainerStatusesFallsBackOnItsPhase()
    {
        // A proxy registered by meshgate up (no --cluster): one container, no statuses.
        Assert.Equal(new PodPrinter.Row("1/1", "Running", "0"), Row("""{ %Proxy%, "status": {"phase": "Running", "podIP": "127.0.0.1"}}"""));
        Assert.Equal(new PodPrinter.Row("0/1", "Pending", "0"), Row("""{ %Proxy%, "status": {"phase": "Pending"}}"""));
        Assert.Equal(new PodPrinter.Row("0/1", "Pending", "0"), Row("""{ %Proxy% }"""));
        Assert.Equal("0/1", Row("""{ %Proxy%, "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}}""").Ready);
    }

    [Fact]
    public void WideCells()
    {
        var pod = (JsonObject)JsonNode.Parse("""
            { "spec": {"readinessGates": [{"conditionType": "a"}, {"conditionType": "b"}]},
              "status": {"podIP": "10.0.0.9", "podIPs": [{"ip": "10.0.0.9"}, {"ip": "fd00::9"}], "conditions": [{"type": "a", "status": "True"}, {"type": "b", "status": "False"}]}}
            """)!;
        Assert.Equal("10.0.0.9", PodPrinter.Ip(pod));
        Assert.Equal("1/2", PodPrinter.ReadinessGates(pod));
        Assert.Equal("<none>", PodPrinter.Ip(new JsonObject()));
        Assert.Equal("127.0.0.2", PodPrinter.Ip((JsonObject)JsonNode.Parse("""{"status": {"podIP": "127.0.0.2"}}""")!));
        Assert.Equal("<none>", PodPrinter.ReadinessGates(new JsonObject()));
    }
}
