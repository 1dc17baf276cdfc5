using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Meshgate.ControlPlane.Store;
using Meshgate.Core.Resources;

namespace Meshgate.LocalCluster;

/// <summary>
/// What the Deployment and ReplicaSet controllers do, in one step: each Deployment has <c>spec.replicas</c> Pods made
/// from its template, named as Kubernetes names them (<c>sleep-776b7bcdcd-z7mc4</c>: the template's hash, then a random
/// suffix) and labelled <c>pod-template-hash</c>; Pods of a Deployment that is gone, or of an older template, are
/// deleted. New Pods are admitted (<see cref="PodAdmission"/>) before they are stored. There is no ReplicaSet object:
/// the Pods name the Deployment as their owner.
/// </summary>
internal sealed class DeploymentController(ResourceStore store, ProxyTemplate proxies)
{
    public const string TemplateHashLabel = "pod-template-hash";
    private const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";

    public void Reconcile(ResourceSet set)
    {
        var pods = set.List(ResourceTypes.Pod);
        var create = new List<Resource>();
        var delete = new List<ObjectKey>();
        var deployments = set.List(ResourceTypes.Deployment);
        foreach (var deployment in deployments)
        {
            var template = deployment.Json["spec"]?["template"] as JsonObject;
            if (template is null)
            {
                continue;
            }

            var hash = TemplateHash(template);
            var replicas = deployment.Json["spec"]?["replicas"]?.GetValue<int>() ?? 1;
            var uid = deployment.Metadata["uid"]?.GetValue<string>();
            var owned = pods.Where(p => p.Namespace == deployment.Namespace && Owner(p) == (deployment.Name, uid)).ToList();
            var current = owned.Where(p => p.Labels.TryGetValue(TemplateHashLabel, out var h) && h == hash).ToList();
            delete.AddRange(owned.Except(current).Select(p => p.Key));
            delete.AddRange(current.Skip(replicas).Select(p => p.Key));
            for (var i = current.Count; i < replicas; i++)
            {
                create.Add(NewPod(set, deployment, template, hash));
            }
        }

        foreach (var pod in pods)
        {
            // A Deployment deleted and created again has another uid: its old pods are not its pods.
            if (Owner(pod) is { Name: not null } owner
                && !deployments.Any(d => d.Namespace == pod.Namespace && d.Name == owner.Name && d.Metadata["uid"]?.GetValue<string>() == owner.Uid))
            {
                delete.Add(pod.Key);
            }
        }

        if (delete.Count > 0)
        {
            store.Delete(delete);
        }

        foreach (var deployment in deployments)
        {
            WriteStatus(deployment, pods);
        }

        if (create.Count > 0)
        {
            store.Apply(create);
        }
    }

    /// <summary>
    /// The Deployment's status as the controller reports it (<c>replicas</c>, <c>readyReplicas</c>,
    /// <c>availableReplicas</c>, <c>updatedReplicas</c>, condition Available), so <c>get deploy</c> shows READY and
    /// whoever waits for a rollout can.
    /// </summary>
    private void WriteStatus(Resource deployment, IReadOnlyList<Resource> pods)
    {
        var uid = deployment.Metadata["uid"]?.GetValue<string>();
        var owned = pods.Where(p => p.Namespace == deployment.Namespace && Owner(p) == (deployment.Name, uid)).ToList();
        var ready = owned.Count(p => (p.Json["status"]?["conditions"] as JsonArray ?? [])
            .Any(c => c?["type"]?.GetValue<string>() == "Ready" && c["status"]?.GetValue<string>() == "True"));
        var wanted = deployment.Json["spec"]?["replicas"]?.GetValue<int>() ?? 1;
        var status = new JsonObject
        {
            ["observedGeneration"] = deployment.Metadata["generation"]?.DeepClone(),
            ["replicas"] = owned.Count,
            ["updatedReplicas"] = owned.Count,
            ["readyReplicas"] = ready,
            ["availableReplicas"] = ready,
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Available",
                ["status"] = ready >= wanted ? "True" : "False",
                ["reason"] = ready >= wanted ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            }),
        };
        if (JsonNode.DeepEquals(deployment.Json["status"], status))
        {
            return;
        }

        store.Update(deployment.Key, current =>
        {
            if (current.Metadata["uid"]?.GetValue<string>() != uid)
            {
                return null; // made again meanwhile: its own round reports it
            }

            var json = (JsonObject)current.Json.DeepClone();
            json["status"] = status;
            return new Resource(ResourceTypes.Deployment, json);
        });
    }

    private Resource NewPod(ResourceSet set, Resource deployment, JsonObject template, string hash)
    {
        var pod = new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = template["metadata"]?.DeepClone() ?? new JsonObject(),
            ["spec"] = template["spec"]?.DeepClone() ?? new JsonObject(),
        };
        var metadata = (JsonObject)pod["metadata"]!;
        metadata["name"] = $"{deployment.Name}-{hash}-{Suffix()}";
        metadata["namespace"] = deployment.Namespace;
        var labels = metadata["labels"] as JsonObject ?? new JsonObject();
        metadata["labels"] = labels;
        labels[TemplateHashLabel] = hash;
        metadata["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "Deployment",
            ["name"] = deployment.Name,
            ["uid"] = deployment.Metadata["uid"]?.DeepClone(),
            ["controller"] = true,
        });
        var spec = (JsonObject)pod["spec"]!;
        spec["serviceAccountName"] ??= "default";
        var namespaceLabels = set.Get(new ObjectKey(ResourceTypes.Namespace, "", deployment.Namespace))?.Labels ?? new Dictionary<string, string>();
        PodAdmission.Admit(pod, namespaceLabels, proxies);
        return new Resource(ResourceTypes.Pod, pod);
    }

    /// <summary>The Deployment that owns <paramref name="pod"/> (name and uid), from its owner reference.</summary>
    private static (string? Name, string? Uid) Owner(Resource pod)
    {
        var owner = (pod.Metadata["ownerReferences"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(o => o["kind"]?.GetValue<string>() == "Deployment");
        return (owner?["name"]?.GetValue<string>(), owner?["uid"]?.GetValue<string>());
    }

    /// <summary>Ten characters from the template's content, as the ReplicaSet's pod-template-hash.</summary>
    private static string TemplateHash(JsonObject template)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(template.ToJsonString()));
        return string.Concat(hash.Take(10).Select(b => Alphabet[b % Alphabet.Length]));
    }

    private static string Suffix() => string.Concat(Enumerable.Range(0, 5).Select(_ => Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)]));
}
