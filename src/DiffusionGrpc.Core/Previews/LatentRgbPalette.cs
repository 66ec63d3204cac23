namespace DiffusionGrpc.Core.Previews;

/// <summary>
/// A linear map from latent channels to RGB: <c>rgb[c] = bias[c] + Σ_k latent[k] · factors[k, c]</c>, applied to
/// latents as the UNet sees them, then <c>(x + 1) / 2</c> clamped to [0, 1].
/// </summary>
public sealed class LatentRgbPalette
{
    /// <summary>ComfyUI's well-known factors for SD 1.x latents (rows = latent channels, columns = R, G, B).</summary>
    public static LatentRgbPalette StableDiffusion1 { get; } = new(
        [
            [0.3512f, 0.2297f, 0.3227f],
            [0.3250f, 0.4974f, 0.2350f],
            [-0.2829f, 0.1762f, 0.2721f],
            [-0.2120f, -0.2616f, -0.7177f],
        ],
        [0f, 0f, 0f]);

    private readonly float[] _factors;
    private readonly float[] _bias;

    /// <summary>Creates a palette from <paramref name="factors"/> (one row of 3 per latent channel) and <paramref name="bias"/> (3).</summary>
    public LatentRgbPalette(IReadOnlyList<IReadOnlyList<float>> factors, IReadOnlyList<float> bias)
    {
        if (factors.Count == 0 || bias.Count != 3)
        {
            throw new ArgumentException("latent_rgb needs one row of 3 factors per latent channel and a bias of 3.");
        }
        Channels = factors.Count;
        _factors = new float[Channels * 3];
        for (int k = 0; k < Channels; k++)
        {
            if (factors[k].Count != 3)
            {
                throw new ArgumentException($"latent_rgb factors row {k} has {factors[k].Count} values, expected 3.");
            }
            for (int c = 0; c < 3; c++)
            {
                _factors[k * 3 + c] = factors[k][c];
            }
        }
        _bias = [bias[0], bias[1], bias[2]];
    }

    /// <summary>Number of latent channels the palette maps.</summary>
    public int Channels { get; }

    /// <summary>
    /// Maps one image's latents <c>[C, h, w]</c> to interleaved 8-bit RGB <c>[h, w, 3]</c>.
    /// </summary>
    public void ToRgb24(ReadOnlySpan<float> latents, int height, int width, Span<byte> rgb)
    {
        int plane = height * width;
        if (latents.Length < Channels * plane || rgb.Length < plane * 3)
        {
            throw new ArgumentException("Buffer sizes do not match the latent shape.");
        }
        for (int p = 0; p < plane; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                float v = _bias[c];
                for (int k = 0; k < Channels; k++)
                {
                    v += latents[k * plane + p] * _factors[k * 3 + c];
                }
                float unit = Math.Clamp((v + 1f) * 0.5f, 0f, 1f);
                rgb[p * 3 + c] = (byte)MathF.Round(unit * 255f);
            }
        }
    }
}
