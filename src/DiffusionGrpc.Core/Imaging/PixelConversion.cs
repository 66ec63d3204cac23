namespace DiffusionGrpc.Core.Imaging;

/// <summary>diffusers' conversion of a decoded image to 8-bit: <c>((x / 2 + 0.5).clamp(0, 1) * 255).round()</c>.</summary>
public static class PixelConversion
{
    /// <summary>
    /// Converts planar float RGB <c>[3, H, W]</c> in [-1, 1] to interleaved 8-bit RGB <c>[H, W, 3]</c>, in
    /// float32 arithmetic and round-half-to-even, as torch and numpy compute it.
    /// </summary>
    public static void PlanarToRgb24(ReadOnlySpan<float> planar, int height, int width, Span<byte> rgb)
    {
        int plane = height * width;
        if (planar.Length < 3 * plane || rgb.Length < 3 * plane)
        {
            throw new ArgumentException("Buffer sizes do not match the image shape.");
        }
        for (int c = 0; c < 3; c++)
        {
            var source = planar.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++)
            {
                rgb[p * 3 + c] = ToByte(source[p]);
            }
        }
    }

    /// <summary>One value: <c>round(clamp(x / 2 + 0.5, 0, 1) * 255)</c> in float32, NaN as 0.</summary>
    public static byte ToByte(float x)
    {
        float unit = x / 2f + 0.5f;
        // torch.clamp propagates NaN and numpy's astype(uint8) of NaN is undefined; 0 is the sane choice.
        if (float.IsNaN(unit))
        {
            return 0;
        }
        unit = unit < 0f ? 0f : unit > 1f ? 1f : unit;
        return (byte)MathF.Round(unit * 255f, MidpointRounding.ToEven);
    }
}
