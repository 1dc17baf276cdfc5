using System.Text.Json.Nodes;

using Meshgate.Writers;

using Xunit;

namespace Meshgate.Tests.Writers;

public sealed class JsonPathTemplateTests
{
    private const string PodList = """
        {
          "kind": "List",
          "items": [
            {
              "kind": "Pod",
              "metadata": { "name": "web-1", "labels": { "app": "web", "app.kubernetes.io/name": "frontend" } },
              "spec": { "containers": [ { "name": "nginx", "image": "nginx:1.27" }, { "name": "sidecar", "image": "envoy" } ] },
              "status": { "phase": "Running", "restarts": 0, "ready": true, "podIP": null }
            },
            {
              "kind": "Pod",
              "metadata": { "name": "web-2", "labels": { "app": "web" } },
              "spec": { "containers": [ { "name": "nginx", "image": "nginx:1.27" } ] },
              "status": { "phase": "Pending", "restarts": 3, "ready": false }
            },
            {
              "kind": "Pod",
              "metadata": { "name": "db-1", "labels": { "app": "db" } },
              "spec": { "containers": [ { "name": "postgres", "image": "postgres:17" } ] },
              "status": { "phase": "Running", "restarts": 12, "ready": true }
            }
          ]
        }
        """;

    private static string Render(string template, string json = PodList)
    {
        Assert.True(JsonPathTemplate.TryParse(template, out var parsed, out var error), error);
        return parsed.Evaluate(JsonNode.Parse(json));
    }

    [Theory]
    [InlineData("{.kind}", "List")]
    [InlineData("{$.kind}", "List")]
    [InlineData("{.items[0].metadata.name}", "web-1")]
    [InlineData("{.items[0].spec.containers[1].image}", "envoy")]
    [InlineData("{ .items[1].metadata.name }", "web-2")]
    public void Evaluate_SimplePath_PrintsValue(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Evaluate_LiteralTextAroundActions_PrintsTextVerbatim()
    {
        Assert.Equal("kind=List; first=web-1}", Render("kind={.kind}; first={.items[0].metadata.name}}"));
    }

    [Fact]
    public void Evaluate_TemplateWithoutActions_ReturnsTemplate()
    {
        Assert.Equal("plain text", Render("plain text"));
    }

    [Theory]
    [InlineData("{.items[-1].metadata.name}", "db-1")]
    [InlineData("{.items[-3].metadata.name}", "web-1")]
    [InlineData("{.items[-4].metadata.name}", "")]
    [InlineData("{.items[7].metadata.name}", "")]
    public void Evaluate_ArrayIndex_SelectsElementOrNothing(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.items[0:2].metadata.name}", "web-1 web-2")]
    [InlineData("{.items[1:].metadata.name}", "web-2 db-1")]
    [InlineData("{.items[:1].metadata.name}", "web-1")]
    [InlineData("{.items[-2:].metadata.name}", "web-2 db-1")]
    [InlineData("{.items[::2].metadata.name}", "web-1 db-1")]
    [InlineData("{.items[5:9].metadata.name}", "")]
    public void Evaluate_Slice_SelectsRange(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.items[*].metadata.name}", "web-1 web-2 db-1")]
    [InlineData("{.items.*.metadata.name}", "web-1 web-2 db-1")]
    [InlineData("{.items[1].metadata.labels.*}", "web")]
    [InlineData("{.items[*].spec.containers[*].name}", "nginx sidecar nginx postgres")]
    public void Evaluate_Wildcard_JoinsResultsWithSpace(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.items..metadata.name}", "web-1 web-2 db-1")]
    [InlineData("{..image}", "nginx:1.27 envoy nginx:1.27 postgres:17")]
    [InlineData("{.items[2]..name}", "db-1 postgres")]
    public void Evaluate_RecursiveDescent_FindsAllMatchesInDocumentOrder(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Evaluate_Range_RepeatsBodyPerElement()
    {
        var output = Render("{range .items[*]}{.metadata.name}{\"\\t\"}{.status.phase}{\"\\n\"}{end}");

        Assert.Equal("web-1\tRunning\nweb-2\tPending\ndb-1\tRunning\n", output);
    }

    [Fact]
    public void Evaluate_NestedRange_IteratesInnerListPerOuterElement()
    {
        var output = Render("{range .items[*]}{.metadata.name}:{range .spec.containers[*]} {.name}{end};{end}");

        Assert.Equal("web-1: nginx sidecar;web-2: nginx;db-1: postgres;", output);
    }

    [Fact]
    public void Evaluate_RangeOverNothing_PrintsNothing()
    {
        Assert.Equal("[]", Render("[{range .missing[*]}{.name},{end}]"));
    }

    [Theory]
    [InlineData("{\"a\\tb\\nc\"}", "a\tb\nc")]
    [InlineData("{'single'}", "single")]
    [InlineData("{\"braces {} and \\\"quotes\\\"\"}", "braces {} and \"quotes\"")]
    [InlineData("{\"\\u00e9\"}", "\u00e9")]
    public void Evaluate_QuotedLiteral_PrintsUnescapedText(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.items[?(@.status.phase==\"Running\")].metadata.name}", "web-1 db-1")]
    [InlineData("{.items[?(@.status.phase!='Running')].metadata.name}", "web-2")]
    [InlineData("{.items[?(@.status.restarts==3)].metadata.name}", "web-2")]
    [InlineData("{.items[?(@.status.restarts != 0)].metadata.name}", "web-2 db-1")]
    [InlineData("{.items[?(@.status.restarts>=3)].metadata.name}", "web-2 db-1")]
    [InlineData("{.items[?(@.status.restarts<3)].metadata.name}", "web-1")]
    [InlineData("{.items[?(@.status.ready==true)].metadata.name}", "web-1 db-1")]
    [InlineData("{.items[?(@.metadata.labels.app==\"none\")].metadata.name}", "")]
    [InlineData("{.items[?(@.status.podIP)].metadata.name}", "web-1")]
    [InlineData("{.items[*].spec.containers[?(@.name==\"sidecar\")].image}", "envoy")]
    // Found by fuzzing (fuzz/README.md): numbers Go's ParseFloat reads but JSON does not threw JsonException.
    [InlineData("{.items[?(@.status.restarts>=3.)].metadata.name}", "web-2 db-1")]
    [InlineData("{.items[?(@.status.restarts==+3)].metadata.name}", "web-2")]
    [InlineData("{.items[?(@.status.restarts>-.5)].metadata.name}", "web-1 web-2 db-1")]
    [InlineData("{.items[?(@.status.restarts<1e2)].metadata.name}", "web-1 web-2 db-1")]
    public void Evaluate_Filter_SelectsMatchingElements(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{['kind']}", "List")]
    [InlineData("{.items[0][\"metadata\"]['name']}", "web-1")]
    [InlineData("{.items[0]['metadata.name']}", "web-1")]
    [InlineData("{.items[0].metadata.labels['app.kubernetes.io/name']}", "frontend")]
    [InlineData("{.items[0].metadata.labels.app\\.kubernetes\\.io/name}", "frontend")]
    [InlineData("{.items[*]['metadata.name', 'status.phase']}", "web-1 Running web-2 Pending db-1 Running")]
    public void Evaluate_BracketFieldNames_SelectsField(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.items[0,2].metadata.name}", "web-1 db-1")]
    [InlineData("{.items[-1, 0].metadata.name}", "db-1 web-1")]
    [InlineData("{.items[0].spec.containers[*]['name','image']}", "nginx nginx:1.27 sidecar envoy")]
    public void Evaluate_Union_SelectsEachMemberInOrder(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Fact]
    public void Evaluate_FilterWithBracketName_MatchesDottedKey()
    {
        var output = Render("{.items[?(@.metadata.labels['app.kubernetes.io/name']==\"frontend\")].metadata.name}");

        Assert.Equal("web-1", output);
    }

    [Fact]
    public void Evaluate_NodesBuiltInCode_ComparesAndPrintsClrValues()
    {
        var root = new JsonObject
        {
            ["items"] = new JsonArray(
                new JsonObject { ["n"] = 1, ["s"] = "one" },
                new JsonObject { ["n"] = 2.5, ["s"] = "two" },
                new JsonObject { ["n"] = 10L, ["s"] = "ten" }),
        };
        Assert.True(JsonPathTemplate.TryParse("{.items[?(@.n>1)].s}|{.items[?(@.n==10)].n}|{.items[1]}", out var parsed, out _));

        Assert.Equal("two ten|10|{\"n\":2.5,\"s\":\"two\"}", parsed.Evaluate(root));
    }

    [Theory]
    [InlineData("{.items[0].status.restarts}", "0")]
    [InlineData("{.items[0].status.ready}", "true")]
    [InlineData("{.items[0].status.podIP}", "null")]
    [InlineData("{.items[0].metadata.labels}", "{\"app\":\"web\",\"app.kubernetes.io/name\":\"frontend\"}")]
    [InlineData("{.items[1].spec.containers[*].name}{.items[2].spec.containers}", "nginx[{\"name\":\"postgres\",\"image\":\"postgres:17\"}]")]
    public void Evaluate_NonStringValues_PrintAsCompactJson(string template, string expected)
    {
        Assert.Equal(expected, Render(template));
    }

    [Theory]
    [InlineData("{.nope}")]
    [InlineData("{.items[0].metadata.nope.deeper}")]
    [InlineData("{.kind.length}")]
    [InlineData("{.items.name}")]
    public void Evaluate_MissingField_PrintsNothing(string template)
    {
        Assert.Equal(string.Empty, Render(template));
    }

    [Fact]
    public void Evaluate_NullRoot_PrintsOnlyText()
    {
        Assert.True(JsonPathTemplate.TryParse("name={.metadata.name}", out var parsed, out _));

        Assert.Equal("name=", parsed.Evaluate(null));
    }

    [Fact]
    public void Evaluate_CurrentObject_PrintsWholeDocument()
    {
        Assert.Equal("{\"a\":[1,\"x\"]}", Render("{@}", "{ \"a\": [1, \"x\"] }"));
    }

    [Fact]
    public void TryParse_ValidTemplate_ReturnsNoError()
    {
        var ok = JsonPathTemplate.TryParse("{range .items[*]}{.metadata.name}{end}", out var parsed, out var error);

        Assert.True(ok);
        Assert.NotNull(parsed);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("Name: {.metadata.name", "jsonpath: unclosed '{' at position 6")]
    [InlineData("{.items[0].a]}", "jsonpath: unexpected ']' at position 12, expected '}'")]
    [InlineData("{.items[0}", "jsonpath: unexpected '}' at position 9, expected ']'")]
    [InlineData("{.items[0", "jsonpath: unclosed '[' at position 7")]
    [InlineData("{.a.}", "jsonpath: unexpected '}' at position 4, expected a field name")]
    [InlineData("{}", "jsonpath: unexpected '}' at position 1, expected a path, a quoted string, 'range' or 'end'")]
    [InlineData("{\"abc}", "jsonpath: unterminated string at position 1, expected closing \"")]
    [InlineData("{'abc\\", "jsonpath: unterminated string at position 1, expected closing '")]
    [InlineData("{\"\\q\"}", "jsonpath: invalid escape sequence at position 2, expected one of \\n \\t \\r \\b \\f \\0 \\\\ \\\" \\' \\/ \\. \\uXXXX")]
    [InlineData("x{end}", "jsonpath: {end} at position 1 has no matching {range}")]
    [InlineData("{range .items[*]}{.a}", "jsonpath: unclosed {range} at position 0, expected {end}")]
    [InlineData("{range}", "jsonpath: unexpected '}' at position 6, expected a path after 'range'")]
    [InlineData("{.items[?(@.a=\"x\")]}", "jsonpath: invalid operator '=' at position 13, expected '==', '!=', '<', '<=', '>' or '>='")]
    [InlineData("{.items[?(@.a==\"x\"]}", "jsonpath: unexpected ']' at position 18, expected ')'")]
    [InlineData("{.items[?(@.a==", "jsonpath: unclosed '(' at position 9")]
    [InlineData("{.items[?(@.a==x)]}", "jsonpath: unexpected 'x' at position 15, expected a path, a quoted string, a number, true, false or null")]
    [InlineData("{.items[::0]}", "jsonpath: slice step must be positive at position 10")]
    [InlineData("{.items[abc]}", "jsonpath: unexpected 'a' at position 8, expected an index, a slice, '*', '?(' or a quoted name")]
    [InlineData("{.items[99999999999]}", "jsonpath: index '99999999999' out of range at position 8")]
    [InlineData("{.items[?(@.a<1e400)]}", "jsonpath: unexpected '1' at position 14, expected a path, a quoted string, a number, true, false or null")]
    [InlineData("{.a .b}", "jsonpath: unexpected '.' at position 4, expected '}'")]
    public void TryParse_InvalidTemplate_ReturnsPositionedError(string template, string expected)
    {
        var ok = JsonPathTemplate.TryParse(template, out var parsed, out var error);

        Assert.False(ok);
        Assert.Null(parsed);
        Assert.Equal(expected, error);
    }
}
