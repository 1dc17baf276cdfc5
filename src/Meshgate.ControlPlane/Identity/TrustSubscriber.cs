namespace Meshgate.ControlPlane.Identity;

/// <summary>A proxy on the trust stream: what it reported holding, and the newest bundle waiting to be written to it.</summary>
internal sealed class TrustSubscriber(string name, string @namespace)
{
    private readonly System.Threading.Channels.Channel<Trust.V1.TrustBundle> _outbox =
        System.Threading.Channels.Channel.CreateBounded<Trust.V1.TrustBundle>(new System.Threading.Channels.BoundedChannelOptions(1) { FullMode = System.Threading.Channels.BoundedChannelFullMode.DropOldest });

    public string Name { get; } = name;

    public string Namespace { get; } = @namespace;

    public string BundleVersion { get; set; } = "";

    public string CertificateSigner { get; set; } = "";

    public DateTimeOffset CertificateNotAfter { get; set; }

    public System.Threading.Channels.ChannelReader<Trust.V1.TrustBundle> Outbox => _outbox.Reader;

    /// <summary>Latest wins: a bundle not yet written is replaced by a newer one.</summary>
    public void Offer(Trust.V1.TrustBundle bundle) => _outbox.Writer.TryWrite(bundle);
}
