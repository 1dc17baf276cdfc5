using System.Text;
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
}
