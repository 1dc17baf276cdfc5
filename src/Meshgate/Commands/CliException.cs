namespace Meshgate.Commands;

/// <summary>A failure to report on stderr as it is (one line per reason), with a non-zero exit.</summary>
public sealed class CliException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
