using System.Buffers;
using System.Net;
using System.Text.RegularExpressions;

namespace Meshgate.Core.Validation;

/// <summary>The name rules of Kubernetes (apimachinery validation) and Istio (pkg/config/validation/agent).</summary>
public static partial class Names
{
    public const int MaxLabelLength = 63;
    public const int MaxSubdomainLength = 253;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123LabelRegex();

    [GeneratedRegex("^[a-z]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1035LabelRegex();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex QualifiedNamePartRegex();

    private static readonly SearchValues<char> HostLabelCharacters =
        SearchValues.Create("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>RFC 1123 label: lower-case letters, digits and '-', starting and ending alphanumeric, at most 63.</summary>
    public static string? CheckDns1123Label(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (value.Length > MaxLabelLength)
        {
            return $"\"{value}\" is longer than {MaxLabelLength} characters";
        }

        return Dns1123LabelRegex().IsMatch(value)
            ? null
            : $"\"{value}\" is not a valid name: use lower-case letters, digits and '-', starting and ending with a letter or digit (RFC 1123 label), for example \"my-name\"";
    }

    /// <summary>RFC 1035 label (Service names): like an RFC 1123 label but starting with a letter.</summary>
    public static string? CheckDns1035Label(string value)
    {
        if (CheckDns1123Label(value) is { } error)
        {
            return error;
        }

        return Dns1035LabelRegex().IsMatch(value)
            ? null
            : $"\"{value}\" is not a valid name: it must start with a lower-case letter (RFC 1035 label)";
    }

    /// <summary>RFC 1123 subdomain: dot-separated labels, at most 253 characters (most object names).</summary>
    public static string? CheckDns1123Subdomain(string value)
    {
        if (value.Length == 0)
        {
            return "must not be empty";
        }

        if (value.Length > MaxSubdomainLength)
        {
            return $"is longer than {MaxSubdomainLength} characters";
        }

        foreach (var label in value.Split('.'))
        {
            if (label.Length == 0 || label.Length > MaxLabelLength || !Dns1123LabelRegex().IsMatch(label))
            {
                return $"\"{value}\" is not a valid name: use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (RFC 1123 subdomain), for example \"example.com\"";
            }
        }

        return null;
    }

    /// <summary>A label or annotation key: optional DNS subdomain prefix, '/', and a name of at most 63.</summary>
    public static string? CheckQualifiedName(string key)
    {
        var slash = key.IndexOf('/');
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (CheckDns1123Subdomain(prefix) is not null)
            {
                return $"key \"{key}\": prefix \"{prefix}\" must be a DNS subdomain such as example.com";
            }
        }

        if (name.Length == 0 || name.Length > MaxLabelLength || !QualifiedNamePartRegex().IsMatch(name))
        {
            return $"key \"{key}\" is not valid: the name part must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
        }

        return null;
    }

    /// <summary>A label value: empty, or at most 63 of letters, digits, '-', '_' and '.', alphanumeric at both ends.</summary>
    public static string? CheckLabelValue(string value)
    {
        if (value.Length == 0)
        {
            return null;
        }

        return value.Length <= MaxLabelLength && QualifiedNamePartRegex().IsMatch(value)
            ? null
            : $"value \"{value}\" is not valid: use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
    }

    /// <summary>
    /// A host as Istio accepts it in hosts lists: a DNS name whose first label may be <c>*</c> (alone or as
    /// <c>*.suffix</c>), or just <c>*</c>. Labels may hold upper-case letters, as DNS is case-insensitive.
    /// </summary>
    public static string? CheckWildcardHost(string host)
    {
        if (host.Length == 0)
        {
            return "host must not be empty";
        }

        if (host.Length > 255)
        {
            return $"host \"{Shorten(host)}\" is longer than 255 characters";
        }

        if (host == "*")
        {
            return null;
        }

        // Spans, not substrings: snapshots check tens of thousands of host names.
        var name = host.StartsWith("*.", StringComparison.Ordinal) ? host.AsSpan(2) : host.AsSpan();
        if (name.EndsWith('.'))
        {
            name = name[..^1];
        }

        foreach (var range in name.Split('.'))
        {
            var label = name[range];
            if (label.Contains('*'))
            {
                return $"host \"{host}\" is not valid: a wildcard is allowed only as the whole first label, as in *.example.com";
            }

            if (label.Length == 0 || label.Length > MaxLabelLength || !IsHostLabel(label))
            {
                return $"host \"{host}\" is not a valid DNS name: each dot-separated label needs 1-63 letters, digits or '-', not starting or ending with '-'";
            }
        }

        return null;
    }

    /// <summary>
    /// Letters, digits and '-', starting and ending with a letter or digit (length is checked apart). A span search, not
    /// a regular expression: every proxy checks every host of a snapshot (tens of thousands), and the control plane every
    /// host it validates; the regular expression's match setup cost more than the check. Unlike the
    /// <c>^...$</c> expression it replaced, a label ending in a line feed is refused (<c>$</c> also matched before one).
    /// </summary>
    internal static bool IsHostLabel(ReadOnlySpan<char> label) =>
        !label.IsEmpty
        && char.IsAsciiLetterOrDigit(label[0])
        && char.IsAsciiLetterOrDigit(label[^1])
        && !label.ContainsAnyExcept(HostLabelCharacters);

    /// <summary>
    /// A host where Istio wants a name (agent.ValidateWildcardDomain): as <see cref="CheckWildcardHost"/>, and the
    /// last label may not be all digits, so an IP address is not taken for a host name.
    /// </summary>
    public static string? CheckIstioHost(string host)
    {
        if (CheckWildcardHost(host) is { } error)
        {
            return error;
        }

        if (IsIpAddress(host))
        {
            return $"host \"{host}\" is an IP address, not a DNS name; name the service here and put the IP address in addresses or endpoints";
        }

        var name = host.TrimEnd('.');
        var last = name[(name.LastIndexOf('.') + 1)..];
        return last.Length > 0 && last.All(char.IsAsciiDigit)
            ? $"host \"{host}\" is not a valid DNS name: the last label \"{last}\" cannot be all digits"
            : null;
    }

    /// <summary>A fully qualified DNS name without wildcards (needed where the proxy resolves it).</summary>
    public static string? CheckFqdn(string host)
    {
        if (host.Contains('*'))
        {
            return $"host \"{host}\" has a wildcard, which cannot be resolved with DNS";
        }

        return CheckWildcardHost(host);
    }

    public static bool IsIpAddress(string value) => IPAddress.TryParse(value, out _) && !value.Contains('/');

    /// <summary>An IP address or a CIDR block such as 10.0.0.0/8.</summary>
    public static bool IsIpOrCidr(string value)
    {
        var slash = value.IndexOf('/');
        if (slash < 0)
        {
            return IPAddress.TryParse(value, out _);
        }

        return IPNetwork.TryParse(value, out _);
    }

    public static string? CheckPort(long port) => port is >= 1 and <= 65535 ? null : $"{port} is not a port (1-65535)";

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..37] + "...";
}
