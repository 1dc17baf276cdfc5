using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Xunit;

namespace Meshgate.Tests.Resources;

/// <summary><see cref="Resource.CreationTimestamp"/> is parsed once per object and answers the same every time.</summary>
public sealed class ResourceTests
{
    private static Resource ServiceEntry(JsonObject metadata) =>
        new(ResourceTypes.ServiceEntry, new JsonObject { ["apiVersion"] = "networking.istio.io/v1", ["kind"] = "ServiceEntry", ["metadata"] = metadata });

    [Fact]
    public void CreationTimestamp_Set_ParsedAndKept()
    {
        var resource = ServiceEntry(new JsonObject { ["name"] = "a", ["creationTimestamp"] = "2026-12-07T14:05:20Z" });

        var expected = new DateTimeOffset(2026, 12, 7, 14, 5, 20, TimeSpan.Zero);
        Assert.Equal(expected, resource.CreationTimestamp);
        Assert.Equal(expected, resource.CreationTimestamp);
    }

    [Fact]
    public void CreationTimestamp_MissingOrUnreadable_Null()
    {
        Assert.Null(ServiceEntry(new JsonObject { ["name"] = "a" }).CreationTimestamp);
        var unreadable = ServiceEntry(new JsonObject { ["name"] = "a", ["creationTimestamp"] = "yesterday" });
        Assert.Null(unreadable.CreationTimestamp);
        Assert.Null(unreadable.CreationTimestamp);
    }

    [Fact]
    public void CreationTimestamp_WithSameSpec_ReadFromTheNewMetadata()
    {
        var first = ServiceEntry(new JsonObject { ["name"] = "a", ["creationTimestamp"] = "2026-12-07T14:05:20Z" });
        _ = first.CreationTimestamp;

        var copy = first.WithSameSpec(new JsonObject { ["kind"] = "ServiceEntry", ["metadata"] = new JsonObject { ["name"] = "a", ["creationTimestamp"] = "2026-12-08T00:00:00Z" } });

        Assert.Equal(new DateTimeOffset(2026, 12, 8, 0, 0, 0, TimeSpan.Zero), copy.CreationTimestamp);
    }
}
