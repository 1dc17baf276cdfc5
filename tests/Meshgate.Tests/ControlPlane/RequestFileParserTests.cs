using System.Text;
using Meshgate.ControlPlane.Api;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.ControlPlane;

/// <summary>
/// The apply request's pipelined read of a large file gives exactly what the sequential <see cref="ResourceParser.ParseText"/>
/// gives: the same objects in the same order, the same errors in the same order, and a YAML error alone.
/// </summary>
public sealed class RequestFileParserTests
{
    private static string Large(int count = 2_000)
    {
        var text = ApplyScaleTests.Config(count);
        Assert.True(text.Length >= RequestFileParser.PipelineThreshold, "the text must be large enough to be pipelined");
        return text;
    }

    private static void AssertSame(ParseResult expected, ParseResult actual)
    {
        Assert.Equal(expected.Resources.Select(r => r.Key.ToString()), actual.Resources.Select(r => r.Key.ToString()));
        Assert.Equal(expected.Resources.Select(r => r.Json.ToJsonString()), actual.Resources.Select(r => r.Json.ToJsonString()));
        Assert.Equal(expected.Errors.Select(e => e.ToString()), actual.Errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Parse_LargeValidFile_SameObjectsInOrder()
    {
        var text = Large();
        var actual = RequestFileParser.Parse(text, "config.yaml", "default", enforceNamespace: false);
        Assert.Equal(4_000, actual.Resources.Count);
        AssertSame(ResourceParser.ParseText(text, "config.yaml"), actual);
    }

    [Fact]
    public void Parse_InvalidDocumentsInSeveralBatches_SameErrorsInOrder()
    {
        var text = new StringBuilder(Large())
            .Replace("name: svc-3\n", "name: Svc_3\n")                      // early batch: invalid name
            .Replace("resolution: DNS\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc-1500\n", "resolution: DNZ\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: svc-1500\n")
            .Append("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: last\nspec:\n  hostz: [a.example.com]\n")
            .ToString();
        var actual = RequestFileParser.Parse(text, "config.yaml", "default", enforceNamespace: false);
        Assert.False(actual.Ok);
        Assert.True(actual.Errors.Count(e => !e.IsWarning) >= 3, string.Join("\n", actual.Errors));
        AssertSame(ResourceParser.ParseText(text, "config.yaml"), actual);
    }

    [Fact]
    public void Parse_YamlErrorLateInFile_ThatErrorAlone()
    {
        var text = Large() + "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n";
        var actual = RequestFileParser.Parse(text, "config.yaml", "default", enforceNamespace: false);
        var error = Assert.Single(actual.Errors);
        Assert.Empty(actual.Resources);
        Assert.Contains("config.yaml: line ", error.ToString(), StringComparison.Ordinal);
        AssertSame(ResourceParser.ParseText(text, "config.yaml"), actual);
    }

    [Fact]
    public void Parse_EnforcedNamespace_SameErrors()
    {
        var text = Large().Replace("name: svc-1999\n", "name: svc-1999\n  namespace: other\n", StringComparison.Ordinal);
        var actual = RequestFileParser.Parse(text, "config.yaml", "prod", enforceNamespace: true);
        Assert.Single(actual.Errors, e => !e.IsWarning);
        AssertSame(ResourceParser.ParseText(text, "config.yaml", "prod", enforceNamespace: true), actual);
    }
}
