namespace Meshgate.Core.Analysis;

/// <summary>How bad a finding is, as istioctl's levels: an Error breaks traffic, a Warning probably does, Info is advice.</summary>
public enum Severity
{
    Info,
    Warning,
    Error,
}
