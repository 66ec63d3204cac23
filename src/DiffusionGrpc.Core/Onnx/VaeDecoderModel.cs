using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>The VAE decoder: <c>latent_sample [B, 4, h, w]</c> to <c>sample [B, 3, 8h, 8w]</c>.</summary>
public sealed class VaeDecoderModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly TensorSignature _input;
    private readonly TensorSignature _output;

    /// <summary>Wraps a session; element types come from its metadata.</summary>
    public VaeDecoderModel(InferenceSession session)
    {
        _session = session;
        _input = TensorSignature.From(session.InputMetadata, session.InputMetadata.ContainsKey("latent_sample") ? "latent_sample" : null, "vae_decoder")
            .Expect("vae_decoder", TensorElementType.Float, TensorElementType.Float16);
        _output = TensorSignature.From(session.OutputMetadata, session.OutputMetadata.ContainsKey("sample") ? "sample" : null, "vae_decoder")
            .Expect("vae_decoder", TensorElementType.Float, TensorElementType.Float16);
        LatentChannels = _input.Rank == 4 && _input.Dimensions[1] > 0 ? _input.Dimensions[1] : 4;
    }

    /// <summary>Latent channels the decoder takes.</summary>
    public int LatentChannels { get; }

    /// <summary>
    /// Decodes one latent <c>[1, C, h, w]</c> (already divided by the scaling factor) to float32
    /// <c>[1, 3, H, W]</c>. Images are decoded one at a time as diffusers' ONNX pipeline does, which also
    /// bounds peak memory.
    /// </summary>
    /// <param name="latent">The latent, row-major.</param>
    /// <param name="channels">C.</param>
    /// <param name="height">h.</param>
    /// <param name="width">w.</param>
    /// <param name="reuse">A buffer from an earlier call, reused when its size fits (previews decode every step).</param>
    /// <param name="runOptions">Run options (cancellation).</param>
    public DecodedImage DecodeOne(ReadOnlySpan<float> latent, int channels, int height, int width, float[]? reuse = null, RunOptions? runOptions = null)
    {
        using var input = OrtTensorBuffer.Allocate(_input.ElementType, [1, channels, height, width]);
        input.Write(latent);
        using var outputs = _session.Run(runOptions ?? DefaultRunOptions.Instance, [_input.Name], [input.Value], [_output.Name]);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3)
        {
            throw new InvalidDataException($"vae_decoder returned shape [{string.Join(", ", shape)}], expected [1, 3, H, W].");
        }
        int h = checked((int)shape[2]), w = checked((int)shape[3]);
        var pixels = reuse is not null && reuse.Length == 3 * h * w ? reuse : new float[3 * h * w];
        OrtValueReader.ReadFloats(outputs[0], pixels);
        return new DecodedImage(pixels, h, w);
    }

    /// <inheritdoc />
    public void Dispose() => _session.Dispose();
}

/// <summary>A decoded image: float32 planar RGB <c>[3, H, W]</c> in the VAE's [-1, 1] range.</summary>
/// <param name="Pixels">The planes R, G, B, each row-major.</param>
/// <param name="Height">H.</param>
/// <param name="Width">W.</param>
public readonly record struct DecodedImage(float[] Pixels, int Height, int Width);
