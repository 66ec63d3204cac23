namespace DiffusionGrpc.Core.Pipeline;

/// <summary>
/// The guidance-scale embedding that LCM UNets take as <c>timestep_cond</c> instead of a doubled batch:
/// sinusoids of <c>1000 · (guidance_scale − 1)</c>, sines then cosines, zero-padded to an odd size.
/// </summary>
public static class GuidanceEmbedding
{
    /// <summary>Writes the embedding of <paramref name="guidanceScale"/> into each of the <paramref name="batch"/> rows of <paramref name="destination"/>.</summary>
    public static void Fill(float guidanceScale, int batch, int dimension, Span<float> destination)
    {
        if (destination.Length < batch * dimension)
        {
            throw new ArgumentException("Destination too small.", nameof(destination));
        }
        int half = dimension / 2;
        var row = destination[..dimension];
        row.Clear();
        // float32 throughout, as the pipeline computes it in torch.
        float w = (guidanceScale - 1f) * 1000f;
        float step = half > 1 ? MathF.Log(10000f) / (half - 1) : 0f;
        for (int i = 0; i < half; i++)
        {
            float frequency = MathF.Exp(i * -step);
            float angle = w * frequency;
            row[i] = MathF.Sin(angle);
            row[half + i] = MathF.Cos(angle);
        }
        for (int b = 1; b < batch; b++)
        {
            row.CopyTo(destination.Slice(b * dimension, dimension));
        }
    }
}
