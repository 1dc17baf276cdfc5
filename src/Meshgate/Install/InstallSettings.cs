using System.Globalization;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;

namespace Meshgate.Install;

/// <summary>
/// What <c>meshgate up</c> installs, as <c>istioctl install --set</c> describes it: a profile, then istioctl paths on
/// top. <c>demo</c> (the default) runs the egress gateway and logs every request to the proxies' standard output, as
/// Istio's demo profile does; <c>minimal</c> runs no gateway and logs nothing.
/// </summary>
public sealed record InstallSettings
{
    public const string DefaultGatewayName = "istio-egressgateway";

    /// <summary>The paths <c>--set</c> takes, for help and error messages.</summary>
    public static readonly IReadOnlyList<string> SupportedPaths =
    [
        "meshConfig.accessLogFile",
        "meshConfig.accessLogEncoding",
        "meshConfig.accessLogFormat",
        "meshConfig.outboundTrafficPolicy.mode",
        "meshConfig.trustDomain",
        "components.egressGateways[0].enabled",
        "components.egressGateways[0].name",
        "values.meshgate.egress.allowedCidrs",
        "values.meshgate.egress.allowDomainFronting",
        "values.meshgate.egress.domainFrontingExceptions",
    ];

    public required string Profile { get; init; }

    public required MeshSettings Mesh { get; init; }

    public bool EgressGatewayEnabled { get; init; }

    public string EgressGatewayName { get; init; } = DefaultGatewayName;

    /// <summary>The <c>--set</c>s these settings were made with, in order (kept with the installation, so a later
    /// <c>meshgate install</c> starts from them: "the flags you used to install").</summary>
    public IReadOnlyList<string> Sets { get; init; } = [];

    public static InstallSettings ForProfile(string profile) => profile switch
    {
        "demo" => new InstallSettings
        {
            Profile = profile,
            Mesh = new MeshSettings { AccessLogFile = AccessLogSettings.Stdout },
            EgressGatewayEnabled = true,
        },
        "minimal" => new InstallSettings { Profile = profile, Mesh = new MeshSettings(), EgressGatewayEnabled = false },
        _ => throw new InstallSettingsException($"--profile \"{profile}\" is not a profile; use demo (egress gateway, access logs) or minimal (no gateway)"),
    };

    /// <summary>The profile, then each <c>PATH=VALUE</c> in order (a later one wins, as with istioctl).</summary>
    /// <exception cref="InstallSettingsException">A path is unknown or a value does not fit it.</exception>
    public static InstallSettings Parse(string profile, IEnumerable<string> sets)
    {
        var settings = ForProfile(profile);
        var all = sets.ToList();
        foreach (var set in all)
        {
            settings = settings.With(set);
        }

        return settings with { Sets = all };
    }

    private InstallSettings With(string set)
    {
        var equals = set.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            throw new InstallSettingsException($"--set \"{set}\" is not PATH=VALUE, for example --set meshConfig.accessLogFile=/dev/stdout");
        }

        var path = set[..equals].Trim();
        var value = set[(equals + 1)..].Trim();
        return path switch
        {
            "meshConfig.accessLogFile" => this with { Mesh = Mesh with { AccessLogFile = value } },
            "meshConfig.accessLogEncoding" => this with
            {
                Mesh = Mesh with
                {
                    AccessLogEncoding = value.ToUpperInvariant() switch
                    {
                        "TEXT" => AccessLogEncoding.Text,
                        "JSON" => AccessLogEncoding.Json,
                        _ => throw Bad(path, value, "TEXT or JSON"),
                    },
                },
            },
            "meshConfig.accessLogFormat" => this with
            {
                Mesh = Mesh with
                {
                    AccessLogFormat = value.Length == 0 || Core.ProxyConfiguration.AccessLogFormat.TryParse(value, out _, out var formatError)
                        ? value
                        : throw Bad(path, value, "Envoy command operators: " + formatError),
                },
            },
            "meshConfig.trustDomain" => this with
            {
                Mesh = Mesh with
                {
                    TrustDomain = Core.Validation.Names.CheckDns1123Subdomain(value) is { } domainError ? throw Bad(path, value, "a DNS name: " + domainError) : value,
                },
            },
            "meshConfig.outboundTrafficPolicy.mode" => this with
            {
                Mesh = Mesh with
                {
                    OutboundTrafficPolicy = value.ToUpperInvariant() switch
                    {
                        "ALLOW_ANY" => OutboundTrafficPolicyMode.AllowAny,
                        "REGISTRY_ONLY" => OutboundTrafficPolicyMode.RegistryOnly,
                        _ => throw Bad(path, value, "ALLOW_ANY or REGISTRY_ONLY"),
                    },
                },
            },
            "components.egressGateways[0].enabled" => this with
            {
                EgressGatewayEnabled = bool.TryParse(value, out var enabled) ? enabled : throw Bad(path, value, "true or false"),
            },
            "components.egressGateways[0].name" => this with
            {
                EgressGatewayName = Core.Validation.Names.CheckDns1123Label(value) is { } error ? throw Bad(path, value, "a DNS-1123 label: " + error) : value,
            },
            "values.meshgate.egress.allowedCidrs" => this with
            {
                Mesh = Mesh with { Egress = Mesh.Egress with { AllowedCidrs = CidrList(path, value) } },
            },
            "values.meshgate.egress.allowDomainFronting" => this with
            {
                Mesh = Mesh with
                {
                    Egress = Mesh.Egress with { AllowDomainFronting = bool.TryParse(value, out var fronting) ? fronting : throw Bad(path, value, "true or false") },
                },
            },
            "values.meshgate.egress.domainFrontingExceptions" => this with
            {
                Mesh = Mesh with { Egress = Mesh.Egress with { DomainFrontingExceptions = HostList(path, value) } },
            },
            _ => throw new InstallSettingsException(
                $"--set \"{path}\" is not a setting Meshgate knows; supported: {string.Join(", ", SupportedPaths)}"),
        };
    }

    /// <summary>CIDR[,CIDR...] (an empty value allows no range: the strict default).</summary>
    private static EquatableArray<string> CidrList(string path, string value)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in items)
        {
            if (!CidrBlock.TryParse(item, out _, out var error))
            {
                throw Bad(path, value, "CIDR blocks or addresses separated by commas, e.g. 10.0.0.0/8,127.0.0.77: " + error);
            }
        }

        return [.. items];
    }

    /// <summary>HOST[,HOST...]: exact names or *.suffix.</summary>
    private static EquatableArray<string> HostList(string path, string value)
    {
        var items = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in items)
        {
            if ((item == "*" ? "\"*\" names every host; set values.meshgate.egress.allowDomainFronting=true instead" : Core.Validation.Names.CheckWildcardHost(item)) is { } error)
            {
                throw Bad(path, value, "host names or *.suffix separated by commas: " + error);
            }
        }

        return [.. items];
    }

    private static InstallSettingsException Bad(string path, string value, string expected) =>
        new(string.Create(CultureInfo.InvariantCulture, $"--set {path}=\"{value}\": expected {expected}"));
}

/// <summary>A <c>--set</c> or <c>--profile</c> that cannot be applied; the message says which and what would fit.</summary>
public sealed class InstallSettingsException(string message) : Exception(message);
