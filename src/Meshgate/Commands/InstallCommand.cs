using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Api;
using Meshgate.Install;

namespace Meshgate.Commands;

/// <summary>
/// <c>meshgate install [--set PATH=VALUE]... [-f istio-operator.yaml]... [--profile P] [-y]</c>: changes the running mesh
/// as <c>istioctl install</c> does: the mesh config (access logs, outbound policy...) takes effect live, and the egress
/// gateway component is deployed or removed. Unlike istioctl, it starts from the profile and <c>--set</c>s the mesh was
/// installed with (kept on ConfigMap <c>istio</c>), so "the flags you used to install Istio" need not be repeated and a
/// forgotten one does not silently remove a gateway; <c>--profile</c> starts afresh from that profile.
/// </summary>
public static class InstallCommand
{
    private static readonly TimeSpan GatewayReadyTimeout = TimeSpan.FromSeconds(90);

    public static Command Create(CliContext cli)
    {
        var set = new Option<string[]>("--set", "-s")
        {
            Description = "An istioctl setting, PATH=VALUE (repeatable): " + string.Join(", ", InstallSettings.SupportedPaths),
            HelpName = "PATH=VALUE",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var files = new Option<string[]>("--filename", "-f") { Description = "An IstioOperator file (spec.profile, spec.meshConfig, spec.components.egressGateways); repeatable", Arity = ArgumentArity.OneOrMore };
        var profile = new Option<string?>("--profile") { Description = "Start from this profile (demo or minimal) instead of the installed profile and its settings" };
        var yes = new Option<bool>("--skip-confirmation", "-y") { Description = "Do not ask for confirmation (it is asked only on a terminal)" };
        var command = new Command("install", "Change the running mesh as istioctl install does: mesh config and the egress gateway component") { set, files, profile, yes };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var client = new ApiClient(ApiTarget.Resolve(parse));
            var configMap = await ReadMeshConfigMapAsync(client, cancellationToken);
            var annotations = configMap["metadata"]?["annotations"] as JsonObject;
            var installedProfile = annotations?[InstallResources.ProfileAnnotation]?.GetValue<string>() ?? "demo";
            var installedSets = JsonSerializer.Deserialize<List<string>>(annotations?[InstallResources.SetsAnnotation]?.GetValue<string>() ?? "[]") ?? [];
            var cluster = annotations?[InstallResources.ClusterAnnotation]?.GetValue<string>() == "true";

            var newSets = new List<string>();
            string? fileProfile = null;
            foreach (var path in parse.GetValue(files) ?? [])
            {
                var (operatorProfile, operatorSets) = IstioOperatorFile.Read(path);
                fileProfile = operatorProfile ?? fileProfile;
                newSets.AddRange(operatorSets);
            }

            newSets.AddRange(parse.GetValue(set) ?? []);
            var chosenProfile = parse.GetValue(profile) ?? fileProfile;
            InstallSettings before;
            InstallSettings after;
            try
            {
                before = InstallSettings.Parse(installedProfile, installedSets);
                after = chosenProfile is null
                    ? InstallSettings.Parse(installedProfile, [.. installedSets, .. newSets])
                    : InstallSettings.Parse(chosenProfile, newSets);
            }
            catch (InstallSettingsException e)
            {
                throw new CliException("error: " + e.Message);
            }

            if (!parse.GetValue(yes) && !Console.IsInputRedirected && !Console.IsOutputRedirected)
            {
                await cli.Out.WriteAsync($"This will install the Meshgate {after.Profile} profile with [{string.Join(" ", after.Sets)}] into the cluster. Proceed? (y/N) ");
                var answer = cli.In.ReadLine();
                if (answer is null || !answer.Trim().StartsWith('y'))
                {
                    await cli.Out.WriteLineAsync("Cancelled.");
                    return 1;
                }
            }

            var objects = InstallResources.Components(after, cluster);
            var text = string.Join("---\n", objects.Select(o => o.Json.ToJsonString() + "\n"));
            await client.PostAsync<ApplyResponse>(ResourceApi.MeshgatePrefix + "/apply", new ApplyRequest([new SourceFile("meshgate install", text)]), cancellationToken);
            await cli.Out.WriteLineAsync("✔ Istio core installed");
            await cli.Out.WriteLineAsync("✔ Istiod installed");

            var root = after.Mesh.RootNamespace;
            if (before.EgressGatewayEnabled && (!after.EgressGatewayEnabled || before.EgressGatewayName != after.EgressGatewayName))
            {
                foreach (var key in InstallResources.EgressGatewayKeys(root, before.EgressGatewayName))
                {
                    try
                    {
                        await client.DeleteAsync(ResourcePaths.For(key.Type, key.Namespace, key.Name), cancellationToken);
                    }
                    catch (CliException e) when (e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase))
                    {
                        // Already gone.
                    }
                }

                await cli.Out.WriteLineAsync($"✔ Egress gateway {before.EgressGatewayName} removed");
            }

            if (after.EgressGatewayEnabled)
            {
                if (cluster)
                {
                    await WaitForGatewayAsync(client, root, after.EgressGatewayName, cancellationToken);
                }

                await cli.Out.WriteLineAsync("✔ Egress gateways installed");
            }

            await cli.Out.WriteLineAsync("✔ Installation complete");
            return 0;
        });
        return command;
    }

    private static async Task<JsonNode> ReadMeshConfigMapAsync(ApiClient client, CancellationToken cancellationToken)
    {
        try
        {
            return await client.GetAsync("/api/v1/namespaces/istio-system/configmaps/istio", cancellationToken)
                ?? throw new CliException("error: the control plane sent an empty answer for ConfigMap istio-system/istio");
        }
        catch (CliException e) when (e.Message.Contains("not found", StringComparison.OrdinalIgnoreCase))
        {
            throw new CliException("error: no mesh is installed there (ConfigMap istio-system/istio not found); start one with 'meshgate up' or 'meshgate up --cluster'");
        }
    }

    /// <summary>As istioctl waits for each component: until the gateway's pod is Ready.</summary>
    private static async Task WaitForGatewayAsync(ApiClient client, string ns, string name, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < GatewayReadyTimeout)
        {
            var pods = await client.GetAsync($"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{Uri.EscapeDataString(name)}", cancellationToken);
            var ready = (pods?["items"] as JsonArray ?? []).Any(p => (p?["status"]?["conditions"] as JsonArray ?? [])
                .Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True"));
            if (ready)
            {
                return;
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new CliException($"error: the egress gateway {ns}/{name} is not ready after {GatewayReadyTimeout.TotalSeconds:0}s; see meshgate get pod -n {ns} -l app={name} and meshgate logs");
    }
}
