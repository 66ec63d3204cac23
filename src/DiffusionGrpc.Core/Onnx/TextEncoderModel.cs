using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>The CLIP text encoder: <c>input_ids [B, L]</c> (int32 or int64) to <c>last_hidden_state [B, L, D]</c>.</summary>
public sealed class TextEncoderModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly TensorSignature _input;
    private readonly TensorSignature _output;

    /// <summary>Wraps a session; element types come from its metadata.</summary>
    public TextEncoderModel(InferenceSession session)
    {
        _session = session;
        _input = TensorSignature.From(session.InputMetadata, "input_ids", "text_encoder")
            .Expect("text_encoder", TensorElementType.Int32, TensorElementType.Int64);
        _output = TensorSignature.From(session.OutputMetadata, session.OutputMetadata.ContainsKey("last_hidden_state") ? "last_hidden_state" : null, "text_encoder")
            .Expect("text_encoder", TensorElementType.Float, TensorElementType.Float16);
    }

    /// <summary>The element type of <c>input_ids</c>.</summary>
    public TensorElementType InputIdsType => _input.ElementType;

    /// <summary>The hidden size D when the graph states it, else null.</summary>
    public int? HiddenSize => _output.Rank == 3 && _output.Dimensions[2] > 0 ? _output.Dimensions[2] : null;

    /// <summary>Encodes <paramref name="batch"/> rows of <paramref name="sequenceLength"/> ids in one run.</summary>
    /// <returns>The float32 embeddings, row-major <c>[batch, sequenceLength, hidden]</c>, and the hidden size.</returns>
    public (float[] Embeddings, int Hidden) Encode(ReadOnlySpan<long> inputIds, int batch, int sequenceLength, RunOptions? runOptions = null)
    {
        using var ids = OrtTensorBuffer.Allocate(_input.ElementType, [batch, sequenceLength]);
        ids.Write(inputIds);
        using var outputs = _session.Run(runOptions ?? DefaultRunOptions.Instance, [_input.Name], [ids.Value], [_output.Name]);
        var output = outputs[0];
        var shape = output.GetTensorTypeAndShape().Shape;
        if (shape.Length != 3 || shape[0] != batch || shape[1] != sequenceLength)
        {
            throw new InvalidDataException($"text_encoder returned shape [{string.Join(", ", shape)}], expected [{batch}, {sequenceLength}, D].");
        }
        int hidden = checked((int)shape[2]);
        var result = new float[batch * sequenceLength * hidden];
        OrtValueReader.ReadFloats(output, result);
        return (result, hidden);
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}

/// <summary>Shared default run options (stateless, so one instance serves every thread).</summary>
internal static class DefaultRunOptions
{
    public static readonly RunOptions Instance = new();
}

/// <summary>Reads float32 or float16 outputs as float32.</summary>
internal static class OrtValueReader
{
    public static void ReadFloats(OrtValue value, Span<float> destination)
    {
        var type = value.GetTensorTypeAndShape().ElementDataType;
        if (type == TensorElementType.Float)
        {
            value.GetTensorDataAsSpan<float>().CopyTo(destination);
        }
        else if (type == TensorElementType.Float16)
        {
            System.Numerics.Tensors.TensorPrimitives.ConvertToSingle(
                System.Runtime.InteropServices.MemoryMarshal.Cast<Float16, Half>(value.GetTensorDataAsSpan<Float16>()), destination);
        }
        else
        {
            throw new InvalidDataException($"Expected a float32 or float16 output, got {type}.");
        }
    }
}
