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

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Address, Name, Namespace, Labels, ServiceAccount })
        {
            command.Options.Add(option);
        }
    }

    /// <summary><c>127.0.0.1:15010</c> or <c>http://127.0.0.1:15010</c>.</summary>
    public static Uri ParseAddress(string text)
    {
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        return Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) && uri.Scheme == "http" && !uri.IsDefaultPort
            ? uri
            : throw new CliException($"error: --discovery-address \"{text}\" is not HOST:PORT, for example 127.0.0.1:15010");
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
