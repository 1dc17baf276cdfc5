using System.Text.RegularExpressions;

namespace Meshgate.Core.Analysis;

/// <summary>
/// istioctl's <c>--suppress CODE=RESOURCE</c>: hides one code on the objects whose name, as findings print it
/// (<c>DestinationRule default/egressgateway-for-cnn</c>), matches RESOURCE; <c>*</c> matches any run of characters.
/// </summary>
public sealed class Suppression
{
    private readonly Regex _resource;

    private Suppression(string code, string resource)
    {
        Code = code;
        Resource = resource;
        _resource = new Regex("^" + string.Join(".*", resource.Split('*').Select(Regex.Escape)) + "$", RegexOptions.CultureInvariant);
    }

    public string Code { get; }

    public string Resource { get; }

    public bool Matches(Finding finding) => finding.Code.Code == Code && _resource.IsMatch(finding.Resource.ToString());

    public static bool TryParse(string text, out Suppression? suppression)
    {
        suppression = null;
        var parts = text.Split('=');
        if (parts.Length != 2 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
        {
            return false;
        }

        suppression = new Suppression(parts[0].Trim(), parts[1].Trim());
        return true;
    }
}
