namespace Meshgate.ControlPlane.Api.Kubernetes;

/// <summary>One media range of an Accept or Content-Type header: <c>application/json;as=Table;v=v1;g=meta.k8s.io</c>.</summary>
public sealed record MediaType(string Type, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string parameter] => Parameters.GetValueOrDefault(parameter);

    /// <summary>Every range of a header, in the order given (kubectl lists its preference first; q-values are not used).</summary>
    public static IReadOnlyList<MediaType> ParseList(string? header)
    {
        var result = new List<MediaType>();
        foreach (var part in (header ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            result.Add(Parse(part));
        }

        return result;
    }

    public static MediaType Parse(string? text)
    {
        var pieces = (text ?? "").Split(';', StringSplitOptions.TrimEntries);
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var piece in pieces.Skip(1))
        {
            var eq = piece.IndexOf('=');
            if (eq > 0)
            {
                parameters[piece[..eq].Trim()] = piece[(eq + 1)..].Trim().Trim('"');
            }
        }

        return new MediaType(pieces[0].ToLowerInvariant(), parameters);
    }

    public bool IsJson => Type is "application/json" or "application/*" or "*/*";

    public bool IsYaml => Type is "application/yaml";

    /// <summary>A Table of meta.k8s.io v1 or v1beta1 (<c>kubectl get</c>'s server-side printing).</summary>
    public string? TableVersion => IsJson && this["as"] == "Table" && this["g"] == "meta.k8s.io" && this["v"] is "v1" or "v1beta1" ? this["v"] : null;
}

/// <summary>The representation a read answers with, from its Accept header.</summary>
public enum Representation
{
    Json,
    Yaml,
    Table,
    PartialObjectMetadata,
    PartialObjectMetadataList,
}

public sealed record Negotiated(Representation Representation, string MetaVersion = "v1")
{
    public static Negotiated Choose(string? accept, bool list)
    {
        var ranges = MediaType.ParseList(accept);
        if (ranges.Count == 0)
        {
            return new Negotiated(Representation.Json);
        }

        foreach (var range in ranges)
        {
            if (range.TableVersion is { } version)
            {
                return new Negotiated(Representation.Table, version);
            }

            if (range.IsJson && range["as"] is { } @as && range["g"] == "meta.k8s.io" && range["v"] is "v1" or "v1beta1")
            {
                if (@as == "PartialObjectMetadata" && !list)
                {
                    return new Negotiated(Representation.PartialObjectMetadata, range["v"]!);
                }

                if (@as == "PartialObjectMetadataList" && list)
                {
                    return new Negotiated(Representation.PartialObjectMetadataList, range["v"]!);
                }

                continue;
            }

            if (range["as"] is not null)
            {
                continue; // a conversion this server does not make (aggregated discovery is answered elsewhere)
            }

            if (range.IsJson)
            {
                return new Negotiated(Representation.Json);
            }

            if (range.IsYaml)
            {
                return new Negotiated(Representation.Yaml);
            }
        }

        throw ApiError.NotAcceptable($"only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io (asked for {accept})");
    }
}
