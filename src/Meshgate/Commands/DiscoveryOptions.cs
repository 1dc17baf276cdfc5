using System.Collections.Immutable;
using System.CommandLine;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;
using Meshgate.Core.Validation;

namespace Meshgate.Commands;

/// <summary>
/// The options of <c>meshgate proxy</c> that say who the proxy is when the control plane configures it (Istio's node
/// metadata): <c>--discovery-address --name --namespace --labels --service-account</c>; <see cref="CaptureOptions"/> adds <c>--ip</c> and <c>--capture</c>.
/// </summary>
public sealed class DiscoveryOptions
{
    public Option<string?> Address { get; } = new("--discovery-address")
    {
        Description = "The control plane's discovery stream (HOST:PORT, e.g. 127.0.0.1:15010); the proxy takes its configuration from there",
        HelpName = "HOST:PORT",
    };

    public Option<string?> Name { get; } = new("--name") { Description = "Workload (pod) name this proxy stands for; required with --discovery-address" };

    public Option<string> Namespace { get; } = new("--namespace") { Description = "Namespace of the workload", DefaultValueFactory = _ => "default" };

    public Option<string?> Labels { get; } = new("--labels") { Description = "Workload labels, k=v,k=v (Services and Gateways select on them)", HelpName = "k=v,..." };

    public Option<string> ServiceAccount { get; } = new("--service-account") { Description = "Workload service account (its identity)", DefaultValueFactory = _ => "default" };

    public Option<bool> Plaintext { get; } = new("--discovery-plaintext")
    {
        Description = "Follow the control plane over plaintext (its --plaintext-discovery-port); no certificate is issued then. The default is TLS checked against --ca-root-file",
    };

    public Option<string?> CaRootFile { get; } = new("--ca-root-file")
    {
        Description = "The mesh root bundle (PEM) the control plane's TLS certificate is checked against: DATA/ca/mesh-roots.pem of the control plane, which it keeps up to date (Istio's /var/run/secrets/istio/root-cert.pem)",
        HelpName = "PATH",
    };

    public Option<string?> TokenFile { get; } = new("--token-file")
    {
        Description = "The token bound to this pod (Istio's /var/run/secrets/tokens/istio-token); with it the proxy gets its workload certificate from the mesh CA",
        HelpName = "PATH",
    };

    public Option<string> TrustDomain { get; } = new("--trust-domain") { Description = "The SPIFFE trust domain of the identity asked for (meshConfig.trustDomain)", DefaultValueFactory = _ => "cluster.local" };

    public Option<string?> CertificateLifetime { get; } = new("--workload-cert-ttl")
    {
        Description = "Lifetime to ask for the workload certificate, e.g. 24h, 90s (Istio's SECRET_TTL); default: the CA's",
        HelpName = "DURATION",
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Address, Name, Namespace, Labels, ServiceAccount, Plaintext, CaRootFile, TokenFile, TrustDomain, CertificateLifetime })
        {
            command.Options.Add(option);
        }
    }

    /// <summary><c>127.0.0.1:15012</c> (TLS, or plaintext with <paramref name="plaintext"/>), or with its scheme: <c>https://...</c>, <c>http://...</c>.</summary>
    public static Uri ParseAddress(string text, bool plaintext)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : (plaintext ? "http://" : "https://") + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.IsDefaultPort)
        {
            throw new CliException($"error: --discovery-address \"{text}\" is not HOST:PORT, for example 127.0.0.1:15012");
        }

        if (uri.Scheme == "http" && !plaintext)
        {
            throw new CliException($"error: --discovery-address \"{text}\" is plaintext; the discovery stream runs over TLS (port 15012) unless --discovery-plaintext says otherwise");
        }

        return uri;
    }

    /// <summary>What <c>--ca-root-file</c> holds (PEM), required for TLS; null for plaintext.</summary>
    internal string? RootBundle(System.CommandLine.ParseResult parse, Uri address)
    {
        if (address.Scheme == "http")
        {
            return parse.GetValue(CaRootFile) is { } optional && File.Exists(optional) ? File.ReadAllText(optional) : null;
        }

        var path = parse.GetValue(CaRootFile)
            ?? throw new CliException("error: --ca-root-file is required: the discovery stream runs over TLS checked against the mesh root (the control plane's DATA/ca/mesh-roots.pem); or run the control plane with --plaintext-discovery-port and give --discovery-plaintext");
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"error: --ca-root-file \"{path}\": {e.Message}");
        }

        if (!text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw new CliException($"error: --ca-root-file \"{path}\" holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
        }

        return text;
    }

    /// <summary>The lifetime asked for with <c>--workload-cert-ttl</c>; zero leaves it to the CA.</summary>
    internal TimeSpan RequestedLifetime(System.CommandLine.ParseResult parse)
    {
        if (parse.GetValue(CertificateLifetime) is not { } text)
        {
            return TimeSpan.Zero;
        }

        return Durations.TryParse(text, out var lifetime) && lifetime >= TimeSpan.FromSeconds(1)
            ? lifetime
            : throw new CliException($"error: --workload-cert-ttl \"{text}\" is not a duration of at least 1s, e.g. 24h or 90s");
    }

    internal ProxyNode Node(System.CommandLine.ParseResult parse, string role, CaptureOptions capture)
    {
        var name = parse.GetValue(Name) ?? throw new CliException("error: --name is required with --discovery-address: the workload (pod) name this proxy stands for");
        Check("--name", name, Names.CheckDns1123Subdomain(name));
        var ns = parse.GetValue(Namespace)!;
        Check("--namespace", ns, Names.CheckDns1123Label(ns));
        var sa = parse.GetValue(ServiceAccount)!;
        Check("--service-account", sa, Names.CheckDns1123Subdomain(sa));
        var labels = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var pair in (parse.GetValue(Labels) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new CliException($"error: --labels \"{pair}\" is not key=value (write --labels app=sleep,version=v1)");
            }

            var (key, value) = (pair[..equals], pair[(equals + 1)..]);
            Check("--labels", pair, Names.CheckQualifiedName(key) ?? Names.CheckLabelValue(value));
            labels[key] = value;
        }

        var addresses = capture.Addresses(parse);
        return new ProxyNode
        {
            Role = role == "sidecar" ? ProxyRole.Sidecar : ProxyRole.Gateway,
            Name = name,
            Namespace = ns,
            Labels = labels.ToImmutable(),
            ServiceAccount = sa,
            Addresses = [.. addresses],
            Capture = capture.Mode(parse),
        };
    }

    private static void Check(string option, string value, string? error)
    {
        if (error is not null)
        {
            throw new CliException($"error: {option} \"{value}\": {error}");
        }
    }
}
