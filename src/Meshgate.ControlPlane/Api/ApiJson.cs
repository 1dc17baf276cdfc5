using System.Text.Json;
using Meshgate.Core.Resources;

namespace Meshgate.ControlPlane.Api;

/// <summary>JSON settings shared by the API server and its clients: the Kubernetes conventions of <see cref="ResourceJson"/>.</summary>
public static class ApiJson
{
    public static JsonSerializerOptions Options => ResourceJson.Options;
}
