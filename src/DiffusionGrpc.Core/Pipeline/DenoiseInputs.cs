namespace DiffusionGrpc.Core.Pipeline;

/// <summary>The text conditioning and shape of one denoising job.</summary>
/// <param name="BatchSize">Number of images B.</param>
/// <param name="TextEmbeddings">Conditional embeddings <c>[B, L, D]</c>.</param>
/// <param name="UncondEmbeddings">Unconditional embeddings <c>[B, L, D]</c> or <c>[1, L, D]</c>; null = no guidance.</param>
/// <param name="UncondRows">Rows of <paramref name="UncondEmbeddings"/>: B, or 1 to broadcast.</param>
/// <param name="SequenceLength">L.</param>
/// <param name="HiddenSize">D.</param>
/// <param name="LatentHeight">Latent height h (image height / 8).</param>
/// <param name="LatentWidth">Latent width w (image width / 8).</param>
/// <param name="GuidanceScale">Classifier-free guidance scale; guidance runs when it is &gt; 1 and unconditional embeddings are given.</param>
public sealed record DenoiseInputs(
    int BatchSize,
    ReadOnlyMemory<float> TextEmbeddings,
    ReadOnlyMemory<float>? UncondEmbeddings,
    int UncondRows,
    int SequenceLength,
    int HiddenSize,
    int LatentHeight,
    int LatentWidth,
    float GuidanceScale);
