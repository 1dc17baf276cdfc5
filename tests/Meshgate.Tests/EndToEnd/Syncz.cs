using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Meshgate.Tests.EndToEnd;

/// <summary>The control plane's <c>/debug/syncz</c>, as the end-to-end tests use it to know an apply is live.</summary>
internal static class Syncz
{
    /// <param name="http">A client of the API (<c>ApiTarget.CreateHttpClient</c>: its address, trust and token).</param>
    public static async Task<JsonArray> ReadAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonArray>("/debug/syncz"))!;

    /// <summary>
    /// Polls until at least <paramref name="proxies"/> proxies are connected and every connected one runs the store's
    /// current revision (<c>syncedRevision</c>); fails with the statuses and <paramref name="context"/> otherwise.
    /// </summary>
    public static async Task WaitAsync(HttpClient http, int proxies, Func<string> context, TimeSpan? timeout = null)
    {
        var revision = (await http.GetFromJsonAsync<JsonObject>("/version"))!["revision"]!.GetValue<long>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var statuses = await ReadAsync(http);
            var connected = statuses.Where(s => s!["connected"]!.GetValue<bool>()).ToList();
            if (connected.Count >= proxies && connected.All(s => s!["syncedRevision"]?.GetValue<long>() >= revision))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"proxies did not sync revision {revision}: {statuses.ToJsonString()}\n{context()}");
            await Task.Delay(50);
        }
    }
}
