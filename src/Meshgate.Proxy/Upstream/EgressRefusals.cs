namespace Meshgate.Proxy.Upstream;

/// <summary>
/// The words of a refusal, made once: %RESPONSE_CODE_DETAILS% <c>egress_destination_blocked{loopback}</c> (flag
/// <c>SSRF</c>) and the 403 body for each address class, and the domain fronting details (flag <c>DFB</c>).
/// </summary>
public static class EgressRefusals
{
    /// <summary>A request whose Host is not the SNI of the TLS connection the proxy terminated (421).</summary>
    public const string SniHostMismatch = "domain_fronting_blocked{sni_host}";

    /// <summary>A CONNECT tunnel whose ClientHello names another host than the CONNECT target (closed).</summary>
    public const string ConnectSniMismatch = "domain_fronting_blocked{connect_sni}";

    /// <summary>The 421 body.</summary>
    public const string MisdirectedBody = "misdirected request: the host is not the TLS server name of this connection";

    private static readonly string[] s_details = Make(c => $"egress_destination_blocked{{{EgressGuard.Name(c)}}}");
    private static readonly string[] s_bodies = Make(c => $"egress destination blocked: {EgressGuard.Name(c).Replace('_', '-')} address");

    /// <summary><c>egress_destination_blocked{CLASS}</c>.</summary>
    public static string Details(AddressClass addressClass) => s_details[(int)addressClass];

    /// <summary>The body of the 403.</summary>
    public static string Body(AddressClass addressClass) => s_bodies[(int)addressClass];

    private static string[] Make(Func<AddressClass, string> text)
    {
        var values = new string[EgressGuard.ClassCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = text((AddressClass)i);
        }

        return values;
    }
}
