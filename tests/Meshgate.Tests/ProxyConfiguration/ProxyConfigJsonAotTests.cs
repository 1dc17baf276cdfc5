using System.Text.Json;

using Meshgate.Core.ProxyConfiguration;

using Xunit;

namespace Meshgate.Tests.ProxyConfiguration;

/// <summary>
/// The hand-written tables that replace reflection in the proxy's JSON (so that it publishes as Native AOT) are
/// complete: checked here with reflection, against the model itself.
/// </summary>
public class ProxyConfigJsonAotTests
{
    [Fact]
    public void InitializerDefaults_ListsEveryFieldWhoseInitializerGivesAValue()
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in ProxyConfigReaderTests.ModelTypes())
        {
            var fresh = Activator.CreateInstance(type)!;
            foreach (var property in ProxyConfigReaderTests.Fields(type))
            {
                if (property.PropertyType.IsValueType && Nullable.GetUnderlyingType(property.PropertyType) is null
                    && !Equals(property.Get!(fresh), Activator.CreateInstance(property.PropertyType)))
                {
                    found.Add($"{type.Name}.{property.Name}={JsonSerializer.Serialize(property.Get!(fresh), property.PropertyType, ProxyConfigJson.Options)}");
                }
            }
        }

        var listed = new SortedSet<string>(
            InitializerDefaults.Fields.SelectMany(t => t.Value.Select(f => $"{t.Key.Name}.{f.Key}={f.Value.ToJsonString()}")), StringComparer.Ordinal);
        Assert.Equal(found, listed);
    }

    [Fact]
    public void EquatableArrayConverter_CoversEveryListOfTheModel()
    {
        var factory = new EquatableArrayJsonConverterFactory();
        var lists = ProxyConfigReaderTests.ModelTypes()
            .SelectMany(ProxyConfigReaderTests.Fields)
            .Select(p => Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType)
            .Concat(ProxyConfigReaderTests.ModelTypes().SelectMany(t => t.GetProperties()).Select(p => p.PropertyType))
            .Where(factory.CanConvert)
            .Distinct()
            .ToList();
        Assert.Contains(typeof(EquatableArray<Endpoint>), lists);
        foreach (var list in lists)
        {
            Assert.NotNull(factory.CreateConverter(list, ProxyConfigJson.Options));
        }
    }

    [Fact]
    public void Load_FieldsLeftOut_KeepTheirInitializerDefaults()
    {
        const string yaml = """
            version: test-1
            listeners:
            - name: egress-http
              address: 127.0.0.1
              port: 18080
              protocol: HTTP
              defaultFilterChain: {routeTable: http}
            routeTables:
            - name: http
              virtualHosts:
              - name: edition.cnn.com:80
                domains: [edition.cnn.com]
                routes:
                - forward: {clusters: [{name: "outbound|80||edition.cnn.com"}]}
                - match: {prefix: /old}
                  redirect: {path: /new}
            clusters:
            - name: outbound|80||edition.cnn.com
              discovery: STATIC
              endpoints: [{address: 127.0.0.1, port: 9000}]
            """;
        var result = ProxyConfigLoader.Load(yaml, "test.yaml");
        Assert.Empty(result.Errors);
        var config = result.Config!;
        Assert.True(config.Listeners[0].BindToPort);
        Assert.Equal(1, config.Clusters[0].Endpoints[0].Weight);
        Assert.Equal(1, config.RouteTables[0].VirtualHosts[0].Routes[0].Forward!.Clusters[0].Weight);
        Assert.Equal(301, config.RouteTables[0].VirtualHosts[0].Routes[1].Redirect!.Status);
        Assert.Equal(config, ProxyConfigLoader.Load(ProxyConfigLoader.ToJson(config), "round trip").Config);
    }
}
