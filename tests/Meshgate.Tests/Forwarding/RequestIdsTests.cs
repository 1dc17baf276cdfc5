using System.Text.RegularExpressions;
using Meshgate.Proxy.Forwarding;
using Xunit;

namespace Meshgate.Tests.Forwarding;

public sealed class RequestIdsTests
{
    [Fact]
    public void NewV4_IsARandomUuidInItsCanonicalForm()
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < 1000; i++)
        {
            var id = RequestIds.NewV4();
            Assert.Matches(new Regex("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"), id);
            Assert.Equal(4, Guid.Parse(id).Version);
            Assert.True(seen.Add(id), $"{id} came twice");
        }
    }
}
