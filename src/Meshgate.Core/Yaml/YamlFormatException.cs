namespace Meshgate.Core.Yaml;

/// <summary>Input that is not well-formed YAML or JSON; the message names the source, line and column.</summary>
public sealed class YamlFormatException(string message) : Exception(message);
