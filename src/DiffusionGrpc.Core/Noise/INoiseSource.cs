namespace DiffusionGrpc.Core.Noise;

/// <summary>
/// Standard-normal noise for a batch whose images each own a generator, as diffusers draws it when a
/// pipeline is given one <c>torch.Generator</c> per image: image <c>i</c>'s slice of the batch comes
/// from generator <c>i</c>, continuing that generator's stream.
/// </summary>
public interface INoiseSource
{
    /// <summary>Number of images (generators) in the batch.</summary>
    int BatchSize { get; }

    /// <summary>
    /// Fills <paramref name="destination"/>, a row-major <c>[B, ...]</c> tensor with <see cref="BatchSize"/>
    /// equal slices, with <c>torch.randn</c> values: slice <c>i</c> is drawn from generator <c>i</c>.
    /// </summary>
    void FillStandardNormal(Span<float> destination);
}
