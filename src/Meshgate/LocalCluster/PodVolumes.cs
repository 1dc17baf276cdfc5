using System.Text;
using System.Text.Json.Nodes;
using Meshgate.Core.Resources;

namespace Meshgate.LocalCluster;

/// <summary>
/// A pod's volumes as the kubelet makes them before its containers start: each <c>secret</c>, <c>configMap</c> and
/// <c>emptyDir</c> volume is a directory under <c>DATA/cluster/volumes/NS/POD/</c> (0700, so the host's other users
/// cannot read a Secret's keys there), a Secret's or ConfigMap's keys written as files (<c>items</c> pick and rename
/// them; <c>defaultMode</c> and an item's <c>mode</c> set their permissions, 0644 unless given, as the kubelet does).
/// The containers see them at their <c>volumeMounts</c> (<see cref="ContainerMounts"/>). A missing Secret or ConfigMap
/// that is not <c>optional</c> keeps the pod from starting, with a message naming it, as the kubelet's
/// <c>MountVolume.SetUp failed</c>; other kinds of volume are not made (said once when the pod starts).
/// </summary>
internal sealed class PodVolumes
{
    /// <summary>The kubelet's default file mode for Secret and ConfigMap volumes (Kubernetes' <c>defaultMode: 0644</c>).</summary>
    private const UnixFileMode DefaultFileMode = (UnixFileMode)0b110_100_100;

    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private readonly Dictionary<string, string> _directories;

    private PodVolumes(string root, Dictionary<string, string> directories, IReadOnlyList<string> skipped)
    {
        Root = root;
        _directories = directories;
        Skipped = skipped;
    }

    /// <summary>The pod's directory: one directory per volume, and <c>.mounts/CONTAINER</c> where its mounts are staged.</summary>
    public string Root { get; }

    /// <summary>Volumes not made here (another kind than secret, configMap and emptyDir), with why.</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The directory of a volume that was made, by the volume's name.</summary>
    public string? DirectoryOf(string volume) => _directories.GetValueOrDefault(volume);

    /// <summary>Where a container's mounts are staged (an empty directory on the host; a private tmpfs in the container).</summary>
    public string StagingDirectory(string container)
    {
        var path = Path.Combine(Root, ".mounts", container);
        CreatePrivate(path);
        return path;
    }

    /// <summary>Where every pod's volumes live under the data directory.</summary>
    public static string VolumesDirectory(string dataDirectory) => Path.GetFullPath(Path.Combine(dataDirectory, "cluster", "volumes"));

    /// <summary>Makes the volumes of <paramref name="pod"/> afresh from the Secrets and ConfigMaps in <paramref name="set"/>.</summary>
    /// <exception cref="ClusterException">A volume is malformed, or its Secret or ConfigMap is missing and not optional.</exception>
    public static PodVolumes Create(Resource pod, ResourceSet set, string dataDirectory)
    {
        var root = Path.Combine(VolumesDirectory(dataDirectory), pod.Namespace, pod.Name);
        Remove(dataDirectory, pod.Namespace, pod.Name);
        CreatePrivate(root);
        var directories = new Dictionary<string, string>(StringComparer.Ordinal);
        var skipped = new List<string>();
        foreach (var node in pod.Json["spec"]?["volumes"] as JsonArray ?? [])
        {
            if (node is not JsonObject volume || volume["name"]?.GetValue<string>() is not { Length: > 0 } name)
            {
                throw new ClusterException("spec.volumes: a volume without a name");
            }

            if (Core.Validation.Names.CheckDns1123Label(name) is { } invalid)
            {
                throw new ClusterException($"spec.volumes[{name}].name: {invalid}");
            }

            var directory = Path.Combine(root, name);
            if (volume["secret"] is JsonObject secret)
            {
                var secretName = secret["secretName"]?.GetValue<string>() ?? "";
                var data = SecretData(set.Get(new ObjectKey(ResourceTypes.Secret, pod.Namespace, secretName)), name, secretName, Optional(secret));
                WriteFiles(directory, data, secret, name);
            }
            else if (volume["configMap"] is JsonObject configMap)
            {
                var configMapName = configMap["name"]?.GetValue<string>() ?? "";
                var data = ConfigMapData(set.Get(new ObjectKey(ResourceTypes.ConfigMap, pod.Namespace, configMapName)), name, configMapName, Optional(configMap));
                WriteFiles(directory, data, configMap, name);
            }
            else if (volume["emptyDir"] is JsonObject)
            {
                Directory.CreateDirectory(directory);
                SetMode(directory, (UnixFileMode)0b111_111_111); // the kubelet's 0777: any container user may write
            }
            else
            {
                var kind = volume.Select(p => p.Key).FirstOrDefault(k => k != "name") ?? "(none)";
                skipped.Add($"volume {name} ({kind}): only secret, configMap and emptyDir volumes are mounted here");
                continue;
            }

            directories[name] = directory;
        }

        return new PodVolumes(root, directories, skipped);
    }

    /// <summary>Removes a pod's volumes (after its containers stopped).</summary>
    public static void Remove(string dataDirectory, string ns, string pod)
    {
        var root = Path.Combine(VolumesDirectory(dataDirectory), ns, pod);
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private static bool Optional(JsonObject source) => source["optional"] is JsonValue value && value.TryGetValue<bool>(out var optional) && optional;

    private static Dictionary<string, byte[]> SecretData(Resource? secret, string volume, string name, bool optional)
    {
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (secret is null)
        {
            return optional ? data : throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": secret \"{name}\" not found");
        }

        foreach (var (key, value) in secret.Json["data"]?.AsObject() ?? [])
        {
            try
            {
                data[key] = Convert.FromBase64String(value?.GetValue<string>() ?? "");
            }
            catch (FormatException)
            {
                throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": secret \"{name}\": data.{key} is not base64");
            }
        }

        // The API server folds stringData into data on write; a store that keeps it is read the same way.
        foreach (var (key, value) in secret.Json["stringData"]?.AsObject() ?? [])
        {
            data[key] = Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? "");
        }

        return data;
    }

    private static Dictionary<string, byte[]> ConfigMapData(Resource? configMap, string volume, string name, bool optional)
    {
        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        if (configMap is null)
        {
            return optional ? data : throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": configmap \"{name}\" not found");
        }

        foreach (var (key, value) in configMap.Json["data"]?.AsObject() ?? [])
        {
            data[key] = Encoding.UTF8.GetBytes(value?.GetValue<string>() ?? "");
        }

        foreach (var (key, value) in configMap.Json["binaryData"]?.AsObject() ?? [])
        {
            try
            {
                data[key] = Convert.FromBase64String(value?.GetValue<string>() ?? "");
            }
            catch (FormatException)
            {
                throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": configmap \"{name}\": binaryData.{key} is not base64");
            }
        }

        return data;
    }

    /// <summary>The keys as files: every key, or only <c>items</c> (each to its <c>path</c>); modes from <c>defaultMode</c> and <c>mode</c>.</summary>
    private static void WriteFiles(string directory, Dictionary<string, byte[]> data, JsonObject source, string volume)
    {
        Directory.CreateDirectory(directory);
        SetMode(directory, (UnixFileMode)0b111_101_101);
        var defaultMode = Mode(source["defaultMode"], $"volume {volume}: defaultMode") ?? DefaultFileMode;
        var files = new List<(string Key, string Path, UnixFileMode Mode)>();
        if (source["items"] is JsonArray items)
        {
            foreach (var item in items)
            {
                var key = item?["key"]?.GetValue<string>() ?? "";
                var path = item?["path"]?.GetValue<string>() ?? "";
                if (!data.ContainsKey(key))
                {
                    if (Optional(source))
                    {
                        continue;
                    }

                    throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": items: key \"{key}\" is not in the source");
                }

                files.Add((key, path, Mode(item?["mode"], $"volume {volume}: items[{key}].mode") ?? defaultMode));
            }
        }
        else
        {
            files.AddRange(data.Keys.Select(k => (k, k, defaultMode)));
        }

        foreach (var (key, relative, mode) in files)
        {
            // Kubernetes' validation of a key and an item's path: relative, no "..", not empty.
            if (relative.Length == 0 || relative.StartsWith('/') || relative.Split('/').Any(p => p is ".." or ""))
            {
                throw new ClusterException($"MountVolume.SetUp failed for volume \"{volume}\": \"{relative}\" (key {key}) is not a relative path without '..'");
            }

            var path = Path.Combine(directory, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // its mode is set once it is written
            }

            using (var stream = new FileStream(path, options))
            {
                stream.Write(data[key]);
            }

            SetMode(path, mode);
        }
    }

    private static UnixFileMode? Mode(JsonNode? node, string field)
    {
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue value && value.TryGetValue<int>(out var mode) && mode is >= 0 and <= 0b111_111_111)
        {
            return (UnixFileMode)mode;
        }

        throw new ClusterException($"{field}: {node.ToJsonString()} is not a file mode from 0 to 0777 (511 in decimal)");
    }

    private static void CreatePrivate(string path)
    {
        Directory.CreateDirectory(path);
        SetMode(path, Private);
    }

    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }
}
