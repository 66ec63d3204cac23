using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Pipeline;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Previews;

/// <summary>
/// Renders previews of the predicted x0 of a denoising step: a cheap linear latent-to-RGB map upscaled
/// toward the image's size, or a full VAE decode. One instance serves one request (buffers are reused
/// every step).
/// </summary>
public sealed class PreviewRenderer
{
    /// <summary>Longest side of a latent-RGB preview, unless the image itself is smaller.</summary>
    public const int MaxLatentPreviewSide = 256;

    private readonly DiffusionModel _model;
    private readonly ImageEncoder _encoder;
    private readonly LatentDecoder _decoder;
    private byte[] _rgb = [];

    /// <summary>Creates a renderer for one request on <paramref name="model"/>.</summary>
    public PreviewRenderer(DiffusionModel model, ImageEncoder encoder)
    {
        _model = model;
        _encoder = encoder;
        _decoder = new LatentDecoder(model);
    }

    /// <summary>
    /// The size of a latent-RGB preview of an image of <paramref name="imageWidth"/> x <paramref name="imageHeight"/>
    /// whose latents are <paramref name="latentWidth"/> x <paramref name="latentHeight"/>: an integer
    /// upscale of the latents, at most the image's size, with a long side of at most
    /// <see cref="MaxLatentPreviewSide"/> unless the latents themselves are larger.
    /// </summary>
    public static (int Width, int Height) LatentPreviewSize(int latentWidth, int latentHeight, int imageWidth, int imageHeight)
    {
        int longest = Math.Max(latentWidth, latentHeight);
        int factor = Math.Max(1, MaxLatentPreviewSide / longest);
        factor = Math.Min(factor, Math.Max(1, Math.Min(imageWidth / latentWidth, imageHeight / latentHeight)));
        return (latentWidth * factor, latentHeight * factor);
    }

    /// <summary>Encodes the latent-RGB preview of image <paramref name="index"/> of <paramref name="x0"/> <c>[B, C, h, w]</c>.</summary>
    public EncodedPreview RenderLatentRgb(ReadOnlySpan<float> x0, int index, int channels, int height, int width, int imageWidth, int imageHeight, EncodedImageFormat format)
    {
        var palette = _model.LatentPalette;
        if (palette.Channels != channels)
        {
            throw new InvalidOperationException($"The model's latent_rgb map has {palette.Channels} channels; its latents have {channels}.");
        }
        int size = channels * height * width;
        if (_rgb.Length != height * width * 3)
        {
            _rgb = new byte[height * width * 3];
        }
        palette.ToRgb24(x0.Slice(index * size, size), height, width, _rgb);
        var (w, h) = LatentPreviewSize(width, height, imageWidth, imageHeight);
        return new EncodedPreview(_encoder.Encode(_rgb, width, height, format, null, w, h), w, h);
    }

    /// <summary>Encodes the VAE decode of image <paramref name="index"/> of <paramref name="x0"/> at full size.</summary>
    public EncodedPreview RenderVae(ReadOnlySpan<float> x0, int index, int channels, int height, int width, EncodedImageFormat format, RunOptions? runOptions = null)
    {
        var image = _decoder.Decode(x0, index, channels, height, width, runOptions);
        return new EncodedPreview(_encoder.Encode(image.Pixels, image.Width, image.Height, format), image.Width, image.Height);
    }
}

/// <summary>An encoded preview image.</summary>
/// <param name="Data">The encoded bytes.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
public sealed record EncodedPreview(byte[] Data, int Width, int Height);
