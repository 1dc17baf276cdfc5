using System.Text;

using Meshgate.Core.Validation;

namespace Meshgate.Fuzz.Targets;

/// <summary>
/// YAML or JSON documents (what <c>apply -f</c>, the API and the seed files hand in) read into validated resources
/// (<see cref="ResourceParser.ParseText"/>: the YAML reader, kind lookup, schema, metadata and each kind's rules). Bad
/// input is a list of errors, never an exception.
/// </summary>
public static class ResourcesTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var result = ResourceParser.ParseText(Encoding.UTF8.GetString(input), "fuzz");
        foreach (var error in result.Errors)
        {
            _ = error.ToString();
        }
    }
}
