using System.Text;
using Meshgate.Core.Validation;
using Meshgate.Core.Yaml;
using Xunit;

namespace Meshgate.Tests.Validation;

/// <summary>Large files (bench/scale.sh applies 20,000 objects in one) are read whole; merge keys still merge.</summary>
public class LargeInputTests
{
    [Fact]
    public void Read_TwentyThousandDocuments_AllRead()
    {
        var text = new StringBuilder();
        for (var i = 0; i < 20_000; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: svc-{i}\nspec:\n  hosts: [svc-{i}.example.com]\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n---\n");
        }

        var documents = YamlReader.Read(text.ToString(), "big.yaml");

        Assert.Equal(20_000, documents.Count);
        Assert.Equal("svc-19999", documents[^1].Root!["metadata"]!["name"]!.GetValue<string>());
    }

    [Fact]
    public void Read_MergeKey_StillMerged()
    {
        var documents = YamlReader.Read("base: &b {a: 1}\nderived:\n  <<: *b\n  c: 2\n", "merge.yaml");

        Assert.Equal(1, documents[0].Root!["derived"]!["a"]!.GetValue<long>());
    }

    [Fact]
    public void ReadEach_DocumentsReadOneAtATime_AnchorsPerDocumentLineNumbersOfTheWholeText()
    {
        const string Text = "a: &x {n: 1}\nb: *x\n---\n# only a comment\n---\nc: &x [2]\nd: *x\n---\ne: [unclosed\n";
        using var documents = YamlReader.ReadEach(Text, "stream.yaml").GetEnumerator();

        // The first documents come before the malformed last one is read.
        Assert.True(documents.MoveNext());
        Assert.Equal(1, documents.Current.Root!["b"]!["n"]!.GetValue<long>());
        Assert.Equal((1, 1), (documents.Current.Index, documents.Current.Line));
        Assert.True(documents.MoveNext());
        Assert.Equal(2, documents.Current.Root!["d"]![0]!.GetValue<long>());
        Assert.Equal((3, 6), (documents.Current.Index, documents.Current.Line)); // the empty document counts
        var error = Assert.Throws<YamlFormatException>(() => documents.MoveNext());
        Assert.StartsWith("stream.yaml: line ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseText_YamlErrorAfterValidDocuments_OnlyTheYamlError()
    {
        const string Valid = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n";
        var result = ResourceParser.ParseText(Valid + Valid.Replace("name: a", "name: b", StringComparison.Ordinal) + "kind: [\n", "x.yaml");

        Assert.Empty(result.Resources);
        var error = Assert.Single(result.Errors);
        Assert.Equal("error parsing input", error.Subject);
        Assert.StartsWith("x.yaml: line 1", error.Message, StringComparison.Ordinal); // line 11 or 12: after the two objects
    }
}
