using System.CommandLine;
using System.Globalization;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Proxy;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Commands;

/// <summary><c>meshgate proxy</c>'s <c>--ip</c>, <c>--capture</c> and <c>--capture-exclude-ports</c>.</summary>
internal sealed class CaptureOptions
{
    private readonly Option<string?> _ip = new("--ip") { Description = "The instance's IP (Istio's INSTANCE_IP): listeners on 0.0.0.0 bind it instead", HelpName = "IP" };
    private readonly Option<string> _capture = new("--capture")
    {
        Description = "transparent: redirect this network namespace's outbound TCP to the capture listener (nftables, needs root) while the proxy runs; none (default): explicit proxy only",
        DefaultValueFactory = _ => "none",
    };

    private readonly Option<string[]> _exclude = new("--capture-exclude-ports")
    {
        Description = "Destination ports transparent capture leaves alone (repeatable or comma-separated), like Istio's excludeOutboundPorts",
        HelpName = "PORT,...",
        Arity = ArgumentArity.OneOrMore,
    };

    public CaptureOptions() => _capture.AcceptOnlyFromAmong("none", "transparent");

    public void AddTo(Command command)
    {
        command.Options.Add(_ip);
        command.Options.Add(_capture);
        command.Options.Add(_exclude);
    }

    /// <summary>The proxy's options; with transparent capture, marks its upstream sockets so the rules skip them.</summary>
    public ProxyOptions Options(ParseResult parse)
    {
        IPAddress? ip = null;
        if (parse.GetValue(_ip) is { } text && !IPAddress.TryParse(text, out ip))
        {
            throw new CliException($"error: --ip: \"{text}\" is not an IP address");
        }

        if (parse.GetValue(_capture) == "transparent")
        {
            UpstreamSocket.Mark = NftablesCapture.DefaultMark;
        }

        return new ProxyOptions { InstanceIp = ip };
    }

    /// <summary>Installs the capture rules when asked; disposing removes them.</summary>
    public async Task<IAsyncDisposable?> InstallAsync(ParseResult parse, ProxyConfig config, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_capture) != "transparent")
        {
            return null;
        }

        Listener? capture = null;
        foreach (var listener in config.Listeners)
        {
            capture ??= listener.UseOriginalDestination ? listener : null;
        }

        if (capture is null)
        {
            throw new CliException("error: --capture transparent needs a listener with useOriginalDestination: true (the sidecar's virtualOutbound on 15001) in the configuration");
        }

        var excluded = new List<int>();
        foreach (var value in parse.GetValue(_exclude) ?? [])
        {
            foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                {
                    throw new CliException($"error: --capture-exclude-ports: \"{part}\" is not a port (1-65535)");
                }

                excluded.Add(port);
            }
        }

        try
        {
            await NftablesCapture.InstallAsync(new CaptureRules(capture.Port, NftablesCapture.DefaultMark, excluded, IncludeIpv6: capture.Address == "::"), cancellationToken);
        }
        catch (InvalidOperationException e)
        {
            throw new CliException($"error: --capture transparent: {e.Message}");
        }

        return new Installed();
    }

    private sealed class Installed : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await NftablesCapture.RemoveAsync();
            }
            catch (InvalidOperationException e)
            {
                await Console.Error.WriteLineAsync($"meshgate proxy: could not remove the capture rules: {e.Message}");
            }
        }
    }
}
