using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using System.Net;
using Meshgate.Core.ProxyConfiguration;
using Meshgate.Core.Translation;
using Meshgate.Proxy;
using Meshgate.Proxy.Capture;
using Meshgate.Proxy.Upstream;

namespace Meshgate.Commands;

/// <summary><c>meshgate proxy</c>'s <c>--ip</c>, <c>--capture</c> and <c>--capture-exclude-ports</c>.</summary>
internal sealed class CaptureOptions
{
    private readonly Option<string[]> _ip = new("--ip")
    {
        Description = "The workload's IP addresses (Istio's INSTANCE_IP; repeatable or comma-separated, the first is the pod IP): listeners on 0.0.0.0 bind the first instead",
        HelpName = "IP",
        Arity = ArgumentArity.OneOrMore,
    };

    private readonly Option<string> _capture = new("--capture")
    {
        Description = "How a sidecar gets its traffic: explicit (default; applications use the HTTP proxy on 15001) or transparent (this network namespace's outbound TCP is redirected to 15001 with nftables while the proxy runs; needs root)",
        DefaultValueFactory = _ => "explicit",
    };

    private readonly Option<string[]> _exclude = new("--capture-exclude-ports")
    {
        Description = "Destination ports transparent capture leaves alone (repeatable or comma-separated), like Istio's excludeOutboundPorts",
        HelpName = "PORT,...",
        Arity = ArgumentArity.OneOrMore,
    };

    public CaptureOptions() => _capture.AcceptOnlyFromAmong("explicit", "transparent");

    public CaptureMode Mode(ParseResult parse) => parse.GetValue(_capture) == "transparent" ? CaptureMode.Transparent : CaptureMode.Explicit;

    /// <summary>Every <c>--ip</c> address, checked; the first is the instance IP.</summary>
    public ImmutableArray<string> Addresses(ParseResult parse)
    {
        var addresses = (parse.GetValue(_ip) ?? []).SelectMany(a => a.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        foreach (var address in addresses)
        {
            if (!IPAddress.TryParse(address, out _))
            {
                throw new CliException($"error: --ip \"{address}\" is not an IP address");
            }
        }

        return [.. addresses];
    }

    public void AddTo(Command command)
    {
        command.Options.Add(_ip);
        command.Options.Add(_capture);
        command.Options.Add(_exclude);
    }

    /// <summary>The proxy's options; with transparent capture, marks its upstream sockets so the rules skip them.</summary>
    public ProxyOptions Options(ParseResult parse)
    {
        var addresses = Addresses(parse);
        var ip = addresses.IsEmpty ? null : IPAddress.Parse(addresses[0]);

        // Upstream connections leave from the workload's address, as a pod's do.
        UpstreamSocket.SourceAddress = ip;

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

        return await InstallAsync(parse, capture.Port, includeIpv6: capture.Address == "::", cancellationToken);
    }

    /// <summary>Installs the capture rules towards <paramref name="capturePort"/> when asked; disposing removes them.</summary>
    public async Task<IAsyncDisposable?> InstallAsync(ParseResult parse, int capturePort, bool includeIpv6, CancellationToken cancellationToken)
    {
        if (parse.GetValue(_capture) != "transparent")
        {
            return null;
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
            await NftablesCapture.InstallAsync(new CaptureRules(capturePort, NftablesCapture.DefaultMark, excluded, IncludeIpv6: includeIpv6), cancellationToken);
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
