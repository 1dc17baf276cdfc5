using System.Text;
using System.Text.Json.Nodes;

using Meshgate.Writers;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// kubectl's <c>-o jsonpath=</c> templates (<see cref="JsonPathTemplate.TryParse"/>): a bad template is false with a
/// message, never an exception, and one that parses renders against an object without throwing.
/// </summary>
public static class JsonPathTarget
{
    private static readonly JsonNode Document = JsonNode.Parse("""
        {"apiVersion":"v1","kind":"List","items":[
          {"kind":"Pod","metadata":{"name":"sleep-1","namespace":"default","labels":{"app":"sleep","app.kubernetes.io/name":"s"}},
           "spec":{"containers":[{"name":"sleep","image":"curl","ports":[{"containerPort":80},{"containerPort":443}]}]},
           "status":{"phase":"Running","podIP":"10.0.0.5","ready":true,"restarts":0,"ratio":1.5,"none":null}},
          {"kind":"Pod","metadata":{"name":"sleep-2","namespace":"other"},"spec":{"containers":[]},"status":{"phase":"Pending"}}]}
        """)!;

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (JsonPathTemplate.TryParse(Encoding.UTF8.GetString(input), out var template, out _))
        {
            _ = template.Evaluate(Document);
        }
    }
}
