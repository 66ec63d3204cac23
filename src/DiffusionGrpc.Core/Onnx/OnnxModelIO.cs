using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>How a model input or output looks, read from the session's metadata.</summary>
/// <param name="Name">The graph name.</param>
/// <param name="ElementType">The element type.</param>
/// <param name="Dimensions">The dimensions; -1 for symbolic ones.</param>
public sealed record TensorSignature(string Name, TensorElementType ElementType, int[] Dimensions)
{
    /// <summary>The rank.</summary>
    public int Rank => Dimensions.Length;

    /// <summary>Reads <paramref name="name"/> (or, when null, the first entry) from session metadata.</summary>
    internal static TensorSignature From(IReadOnlyDictionary<string, NodeMetadata> metadata, string? name, string what)
    {
        string key;
        if (name is not null && metadata.ContainsKey(name))
        {
            key = name;
        }
        else if (name is null && metadata.Count > 0)
        {
            key = metadata.Keys.First();
        }
        else
        {
            throw new InvalidDataException($"{what}: the model has no '{name}' (it has: {string.Join(", ", metadata.Keys)}).");
        }
        var node = metadata[key];
        if (!node.IsTensor)
        {
            throw new InvalidDataException($"{what}: '{key}' is not a tensor.");
        }
        return new TensorSignature(key, node.ElementDataType, node.Dimensions);
    }

    /// <summary>Finds an optional entry.</summary>
    internal static TensorSignature? TryFrom(IReadOnlyDictionary<string, NodeMetadata> metadata, string name) =>
        metadata.TryGetValue(name, out var node) && node.IsTensor ? new TensorSignature(name, node.ElementDataType, node.Dimensions) : null;

    /// <summary>Fails unless the element type is one of <paramref name="allowed"/>.</summary>
    internal TensorSignature Expect(string what, params TensorElementType[] allowed)
    {
        if (Array.IndexOf(allowed, ElementType) < 0)
        {
            throw new InvalidDataException($"{what}: '{Name}' has element type {ElementType}; supported: {string.Join(", ", allowed)}.");
        }
        return this;
    }
}
