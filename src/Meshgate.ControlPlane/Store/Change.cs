using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Store;

public enum ChangeType
{
    Added,
    Modified,
    Deleted,
}

/// <summary>One committed change; revisions are strictly increasing across the store.</summary>
public sealed record Change(long Revision, ChangeType Type, Resource Object);
