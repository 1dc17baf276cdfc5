namespace Meshgate.Tests.Faults;

/// <summary>One curl through the sidecar: when it ran (Stopwatch timestamps), curl's exit code, the HTTP status and body.</summary>
internal sealed record RequestResult(long Started, long Ended, int CurlExit, int Status, string Body)
{
    public bool Ok => CurlExit == 0 && Status == 200 && Body == FaultMesh.Body;

    public override string ToString() => CurlExit == 0 ? $"{Status} {Body.Trim()}" : $"curl exit {CurlExit}: {Body.Trim()}";
}
