using System.Numerics.Tensors;
using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Pipeline;

/// <summary>
/// Latents to 8-bit RGB as diffusers does it: divide by the VAE scaling factor, decode one image at a
/// time, <c>((x / 2 + 0.5).clamp(0, 1) * 255).round()</c>.
/// </summary>
public sealed class LatentDecoder
{
    private readonly DiffusionModel _model;
    private float[] _scaled = [];
    private float[]? _pixels;

    /// <summary>Creates a decoder for <paramref name="model"/>. An instance keeps its buffers between calls, so it serves one request at a time.</summary>
    public LatentDecoder(DiffusionModel model) => _model = model;

    /// <summary>Decodes image <paramref name="index"/> of a batch of latents <c>[B, C, h, w]</c> into interleaved RGB.</summary>
    public RgbImage Decode(ReadOnlySpan<float> latents, int index, int channels, int height, int width, RunOptions? runOptions = null)
    {
        int size = channels * height * width;
        if (_scaled.Length != size)
        {
            _scaled = new float[size];
        }
        // diffusers divides: latents / scaling_factor, in float32.
        TensorPrimitives.Divide(latents.Slice(index * size, size), _model.VaeScalingFactor, _scaled);
        DecodedImage decoded = _model.VaeDecoder.DecodeOne(_scaled, channels, height, width, _pixels, runOptions);
        _pixels = decoded.Pixels;
        var rgb = new byte[decoded.Height * decoded.Width * 3];
        PixelConversion.PlanarToRgb24(decoded.Pixels, decoded.Height, decoded.Width, rgb);
        return new RgbImage(rgb, decoded.Width, decoded.Height);
    }
}

/// <summary>Interleaved 8-bit RGB pixels <c>[Height, Width, 3]</c>.</summary>
/// <param name="Pixels">The pixels.</param>
/// <param name="Width">Width.</param>
/// <param name="Height">Height.</param>
public sealed record RgbImage(byte[] Pixels, int Width, int Height);
