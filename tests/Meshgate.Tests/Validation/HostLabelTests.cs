using System.Text.RegularExpressions;
using Meshgate.Core.Validation;
using Xunit;

namespace Meshgate.Tests.Validation;

/// <summary>The host label check is a loop now (it runs for every host of every snapshot): it must agree with the expression it replaced.</summary>
public sealed partial class HostLabelTests
{
    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$")]
    private static partial Regex FormerHostLabelRegex();

    [Theory]
    [InlineData("a")]
    [InlineData("Z")]
    [InlineData("0")]
    [InlineData("svc-1")]
    [InlineData("Svc--1")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData("-")]
    [InlineData("a_b")]
    [InlineData("a b")]
    [InlineData("a.b")]
    [InlineData("*")]
    [InlineData("é")]
    [InlineData("a\u0661")] // an Arabic-Indic digit: not ASCII, refused by both
    [InlineData("\na")]
    [InlineData("")]
    public void IsHostLabel_SameAsTheFormerExpression(string label) =>
        Assert.Equal(FormerHostLabelRegex().IsMatch(label), Names.IsHostLabel(label));

    [Fact]
    public void IsHostLabel_EveryAsciiCharacterAtEveryPlace_SameAsTheFormerExpression()
    {
        for (var c = (char)0; c < 128; c++)
        {
            if (c == '\n')
            {
                continue; // the expression's $ matched before a final line feed; see the test below
            }

            foreach (var label in new[] { $"{c}", $"{c}a", $"a{c}", $"a{c}b" })
            {
                Assert.True(FormerHostLabelRegex().IsMatch(label) == Names.IsHostLabel(label), $"label \"{label}\" (U+{(int)c:X4})");
            }
        }
    }

    [Fact]
    public void CheckWildcardHost_LabelEndingInALineFeed_Refused() =>
        Assert.Contains("is not a valid DNS name", Names.CheckWildcardHost("svc\n.example.com"));
}
