using System.Text.Json.Nodes;
using Meshgate.Core.Resources;
using Meshgate.LocalCluster;
using Meshgate.Tests.Translation;
using Xunit;

namespace Meshgate.Tests.LocalCluster;

/// <summary>
/// A pod's volumes as the local cluster's kubelet makes them (files, modes, items, what is missing) and what a
/// container runs (an image's default command, Kubernetes' command/args rule) and mounts.
/// </summary>
public sealed class PodVolumesTests : IDisposable
{
    private const string Objects = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: server-certs
          namespace: mesh-external
        type: kubernetes.io/tls
        data:
          tls.crt: Y2VydA==
          tls.key: a2V5
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: nginx-configmap
          namespace: mesh-external
        data:
          nginx.conf: "events {}\n"
          other: "x"
        """;

    private readonly string _data = Directory.CreateTempSubdirectory("meshgate-volumes-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    private static UnixFileMode Mode(string path) => OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(path);

    private static Resource Pod(string volumes, string container = "{\"name\": \"web\", \"image\": \"nginx\"}") => new(ResourceTypes.Pod, (JsonObject)JsonNode.Parse($$$"""
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "mesh-external"},
         "spec": {"containers": [{{{container}}}], "volumes": {{{volumes}}}}}
        """)!);

    [Fact]
    public void Create_SecretConfigMapAndEmptyDir_FilesAndModesAsTheKubelet()
    {
        var pod = Pod("""
            [{"name": "certs", "secret": {"secretName": "server-certs", "defaultMode": 256}},
             {"name": "config", "configMap": {"name": "nginx-configmap", "items": [{"key": "nginx.conf", "path": "conf/nginx.conf", "mode": 384}]}},
             {"name": "plain", "configMap": {"name": "nginx-configmap"}},
             {"name": "scratch", "emptyDir": {}},
             {"name": "host", "hostPath": {"path": "/var/log"}}]
            """);
        var volumes = PodVolumes.Create(pod, TranslationFixtures.Parse(Objects), _data);

        var certs = volumes.DirectoryOf("certs")!;
        Assert.Equal("cert", File.ReadAllText(Path.Combine(certs, "tls.crt")));
        Assert.Equal("key", File.ReadAllText(Path.Combine(certs, "tls.key")));
        Assert.Equal(UnixFileMode.UserRead, Mode(Path.Combine(certs, "tls.key"))); // defaultMode 0400

        var config = volumes.DirectoryOf("config")!;
        Assert.Equal("events {}\n", File.ReadAllText(Path.Combine(config, "conf", "nginx.conf")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, Mode(Path.Combine(config, "conf", "nginx.conf"))); // mode 0600
        Assert.False(File.Exists(Path.Combine(config, "other")), "items picks keys: other is not one of them");

        var plain = volumes.DirectoryOf("plain")!;
        Assert.Equal((UnixFileMode)0b110_100_100, Mode(Path.Combine(plain, "other"))); // the default 0644

        Assert.Equal((UnixFileMode)0b111_111_111, Mode(volumes.DirectoryOf("scratch")!));
        Assert.Null(volumes.DirectoryOf("host"));
        Assert.Contains(volumes.Skipped, s => s.Contains("volume host (hostPath)", StringComparison.Ordinal));

        // The pod's directory is the owner's only: a Secret's keys are not for the machine's other users.
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, Mode(volumes.Root));

        PodVolumes.Remove(_data, "mesh-external", "web-1");
        Assert.False(Directory.Exists(volumes.Root));
    }

    [Fact]
    public void Create_MissingSecret_RefusedNamingIt_UnlessOptional()
    {
        var error = Assert.Throws<ClusterException>(() => PodVolumes.Create(Pod("""[{"name": "ca", "secret": {"secretName": "nginx-ca-certs"}}]"""), TranslationFixtures.Parse(Objects), _data));
        Assert.Equal("MountVolume.SetUp failed for volume \"ca\": secret \"nginx-ca-certs\" not found", error.Message);

        var optional = PodVolumes.Create(Pod("""[{"name": "ca", "secret": {"secretName": "nginx-ca-certs", "optional": true}}]"""), TranslationFixtures.Parse(Objects), _data);
        Assert.Empty(Directory.GetFiles(optional.DirectoryOf("ca")!));
    }

    [Fact]
    public void Create_ItemPathLeavingTheVolume_Refused()
    {
        var pod = Pod("""[{"name": "config", "configMap": {"name": "nginx-configmap", "items": [{"key": "other", "path": "../escape"}]}}]""");
        var error = Assert.Throws<ClusterException>(() => PodVolumes.Create(pod, TranslationFixtures.Parse(Objects), _data));
        Assert.Contains("\"../escape\" (key other) is not a relative path without '..'", error.Message);
    }

    [Theory]
    [InlineData("nginx", true)]
    [InlineData("nginx:1.27", true)]
    [InlineData("docker.io/library/nginx:latest", true)]
    [InlineData("docker.io/nginx@sha256:0000000000000000000000000000000000000000000000000000000000000000", true)]
    [InlineData("nginxinc/nginx-unprivileged", false)]
    [InlineData("localhost:5000/nginx", false)]
    [InlineData("curlimages/curl", false)]
    public void Find_ImageReference_KnownWhateverItsTagOrRegistry(string reference, bool known) =>
        Assert.Equal(known, ContainerImages.Find(reference) is not null);

    [Fact]
    public void Command_KubernetesRule_CommandReplacesEntrypointArgsReplaceCommand()
    {
        var nginx = ContainerImages.Find("nginx");
        Assert.Equal(["nginx", "-g", "daemon off;"], ContainerImages.Command(new JsonObject(), nginx));
        Assert.Equal(["nginx", "-T"], ContainerImages.Command(new JsonObject { ["args"] = new JsonArray("nginx", "-T") }, nginx));
        Assert.Equal(["/bin/sleep", "infinity"], ContainerImages.Command(new JsonObject { ["command"] = new JsonArray("/bin/sleep", "infinity") }, nginx));
        Assert.Empty(ContainerImages.Command(new JsonObject(), ContainerImages.Find("busybox")));
    }

    [Fact]
    public void Script_VolumeMounts_BindsEachVolumeReadOnlyWhenAsked_NoneWithoutMounts()
    {
        var pod = Pod("""[{"name": "config", "configMap": {"name": "nginx-configmap"}}]""",
            """{"name": "web", "image": "nginx", "volumeMounts": [{"name": "config", "mountPath": "/etc/nginx", "readOnly": true}, {"name": "missing", "mountPath": "/data"}]}""");
        var volumes = PodVolumes.Create(pod, TranslationFixtures.Parse(Objects), _data);
        var reports = new List<string>();
        var container = pod.Json["spec"]!["containers"]![0]!.AsObject();

        var script = ContainerMounts.Script("mesh-external/web-1", container, volumes, ContainerImages.Find("nginx"), reports.Add)!;
        Assert.Contains($"mount --bind '{volumes.DirectoryOf("config")}' '/etc/nginx'\nmount -o remount,bind,ro '/etc/nginx'\n", script);
        Assert.Contains("mount -t tmpfs -o mode=0755 meshgate '/var/log/nginx'\nln -s '/dev/stdout' '/var/log/nginx/access.log'\n", script);
        Assert.EndsWith("exec \"$@\"\n", script);
        Assert.Contains(reports, r => r.Contains("volumeMounts[missing] at /data: no such volume is made here", StringComparison.Ordinal));

        Assert.Null(ContainerMounts.Script("mesh-external/web-1", new JsonObject { ["name"] = "sleep" }, volumes, null, reports.Add));
    }
}
