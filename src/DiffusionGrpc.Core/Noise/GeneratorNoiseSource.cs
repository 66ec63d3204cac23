namespace DiffusionGrpc.Core.Noise;

/// <summary>
/// An <see cref="INoiseSource"/> with one <see cref="TorchGenerator"/> per image: image <c>i</c> is seeded
/// <c>seed + i</c> (wrapping modulo 2^64; torch would reject a seed past 2^64-1, and since MT19937 only sees
/// the low 32 bits, wrapping gives the stream torch gives for the same low bits), and each call fills slice
/// <c>i</c> with one <c>randn</c> call of the slice's size on generator <c>i</c>, continuing its stream.
/// Not thread-safe.
/// </summary>
public sealed class GeneratorNoiseSource : INoiseSource
{
    private readonly TorchGenerator[] _generators;

    /// <summary>Creates generators seeded <paramref name="seed"/> + i for i in [0, <paramref name="batchSize"/>).</summary>
    /// <param name="seed">The first image's seed.</param>
    /// <param name="batchSize">Number of images; at least 1.</param>
    public GeneratorNoiseSource(ulong seed, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _generators = new TorchGenerator[batchSize];
        for (int i = 0; i < batchSize; i++)
        {
            _generators[i] = new TorchGenerator(unchecked(seed + (ulong)i));
        }
    }

    /// <summary>Creates a source over the given generators, one per image, in order.</summary>
    /// <param name="generators">The generators; at least one.</param>
    public GeneratorNoiseSource(IReadOnlyList<TorchGenerator> generators)
    {
        ArgumentNullException.ThrowIfNull(generators);
        if (generators.Count == 0)
        {
            throw new ArgumentException("At least one generator is required.", nameof(generators));
        }
        _generators = generators.ToArray();
    }

    /// <inheritdoc />
    public int BatchSize => _generators.Length;

    /// <summary>The generator of image <paramref name="index"/>.</summary>
    /// <param name="index">The image index.</param>
    /// <returns>That image's generator.</returns>
    public TorchGenerator GetGenerator(int index) => _generators[index];

    /// <inheritdoc />
    public void FillStandardNormal(Span<float> destination)
    {
        if (destination.Length % _generators.Length != 0)
        {
            throw new ArgumentException(
                $"A batch of {_generators.Length} needs a length divisible by it; got {destination.Length}.",
                nameof(destination));
        }
        int slice = destination.Length / _generators.Length;
        for (int i = 0; i < _generators.Length; i++)
        {
            _generators[i].FillStandardNormal(destination.Slice(i * slice, slice));
        }
    }
}
