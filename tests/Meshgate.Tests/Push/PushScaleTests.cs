using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

using Meshgate.ControlPlane.Push;
using Meshgate.Core.Resources;
using Meshgate.Core.Translation;
using Meshgate.Tests.Translation;

using Microsoft.Extensions.Logging;

using Xunit;
using Xunit.Abstractions;

namespace Meshgate.Tests.Push;

/// <summary>
/// The push of one change at bench/scale.sh's size (10,000 ServiceEntries + 10,000 VirtualServices), in process: the
/// control plane's own log lines (translate, validate, serialize and compare) are printed for each change, for bench/
/// and the reviewer; times are printed, never asserted. What is asserted: each change reaches the proxy.
/// </summary>
public sealed class PushScaleTests(ITestOutputHelper output)
{
    private const int Count = 10_000;

    [Fact]
    public async Task PushAll_OneChangeAtTenThousandServices_OffersTheChangedSnapshot()
    {
        var objects = ImmutableDictionary.CreateBuilder<ObjectKey, Resource>();
        for (var i = 0; i < Count; i++)
        {
            Add(objects, ServiceEntry(i));
            Add(objects, VirtualService(i));
        }

        var resources = new ResourceSet(1, objects.ToImmutable());
        var log = new LinesLogger();
        await using var push = new PushService(() => resources, null, PushService.Translate, TimeProvider.System, log);
        var connection = push.Connect(TranslationFixtures.Sleep(), 15000, "test", acceptsDelta: true);
        Assert.True(connection.Outbox.TryRead(out _));
        output.WriteLine($"initial: {log.Take()}");

        for (var change = 0; change < 8; change++)
        {
            var revision = resources.Revision + 1;
            var added = ServiceEntry(Count + change);
            resources = new ResourceSet(revision, resources.Objects.SetItem(added.Key, added), resources, [added.Key]);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            var byKind = Stopwatch.StartNew();
            resources.List(ResourceTypes.ServiceEntry);
            var listed = byKind.ElapsedMilliseconds;
            Translator.KeyFor(resources, TranslationFixtures.Sleep());
            var registry = byKind.ElapsedMilliseconds - listed;
            push.PushAll();
            wall.Stop();
            var used = Process.GetCurrentProcess().TotalProcessorTime - cpu;
            Assert.True(connection.Outbox.TryRead(out var sent));
            Assert.NotNull(sent.Delta);
            output.WriteLine($"change {change + 1}: objects by kind {listed} ms, registry {registry} ms, all {wall.ElapsedMilliseconds} ms ({used.TotalMilliseconds:0} ms CPU); {log.Take()}");
        }

        output.WriteLine($"(load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]} on {Environment.ProcessorCount} cores)");
    }

    private static void Add(ImmutableDictionary<ObjectKey, Resource>.Builder objects, Resource resource) => objects[resource.Key] = resource;

    private static Resource ServiceEntry(int i) => new(ResourceTypes.ServiceEntry, Json("""
        {"apiVersion": "networking.istio.io/v1", "kind": "ServiceEntry", "metadata": {"name": "svc-@I", "namespace": "default", "creationTimestamp": "2026-12-07T00:00:00Z"},
         "spec": {"hosts": ["svc-@I.example.com"], "resolution": "DNS", "ports": [{"number": 80, "name": "http", "protocol": "HTTP"}]}}
        """, i));

    private static Resource VirtualService(int i) => new(ResourceTypes.VirtualService, Json("""
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService", "metadata": {"name": "svc-@I", "namespace": "default", "creationTimestamp": "2026-12-07T00:00:00Z"},
         "spec": {"hosts": ["svc-@I.example.com"], "http": [{"name": "svc-@I", "timeout": "5s", "route": [{"destination": {"host": "svc-@I.example.com", "port": {"number": 80}}}]}]}}
        """, i));

    private static JsonObject Json(string text, int i) =>
        JsonNode.Parse(text.Replace("@I", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))!.AsObject();

    /// <summary>The push service's log lines, as the control plane writes them.</summary>
    private sealed class LinesLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add(formatter(state, exception));
            }
        }

        public string Take()
        {
            lock (_lines)
            {
                var text = string.Join("; ", _lines);
                _lines.Clear();
                return text;
            }
        }
    }
}
