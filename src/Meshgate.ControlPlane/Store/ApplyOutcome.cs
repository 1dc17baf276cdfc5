using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Store;

/// <summary>kubectl's words for what an apply did to one object.</summary>
public enum ApplyAction
{
    Created,
    Configured,
    Unchanged,
}

public sealed record ApplyOutcome(ObjectKey Key, ApplyAction Action, Resource Object);
