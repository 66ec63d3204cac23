namespace DiffusionGrpc.Core.Noise;

/// <summary>
/// A CPU <c>torch.Generator</c>: MT19937 seeded like <c>torch.manual_seed(seed)</c> (only the seed's low
/// 32 bits reach the engine), with <c>torch.randn</c>'s float32 sampling. The stream continues across calls,
/// so successive <see cref="FillStandardNormal"/> calls match successive <c>torch.randn(n, generator=g)</c> calls.
/// Not thread-safe: use one instance per thread (torch locks the generator instead).
/// </summary>
public sealed class TorchGenerator
{
    private const int StateSize = 624;
    private const int Middle = 397;
    private const uint MatrixA = 0x9908b0df;
    private const uint UpperMask = 0x80000000;
    private const uint LowerMask = 0x7fffffff;

    private readonly uint[] _state = new uint[StateSize];
    private int _left;
    private int _next;
    private double? _nextDoubleNormal;

    /// <summary>Creates a generator seeded like <c>torch.Generator().manual_seed(seed)</c>.</summary>
    /// <param name="seed">The seed; torch accepts 0..2^64-1 and seeds MT19937 with its low 32 bits.</param>
    public TorchGenerator(ulong seed) => ManualSeed(seed);

    /// <summary>The seed last given to <see cref="ManualSeed"/> (or the constructor).</summary>
    public ulong Seed { get; private set; }

    /// <summary>Reseeds like <c>manual_seed</c>, dropping the cached double-precision normal.</summary>
    /// <param name="seed">The seed.</param>
    public void ManualSeed(ulong seed)
    {
        Seed = seed;
        _state[0] = (uint)seed;
        for (int j = 1; j < StateSize; j++)
        {
            uint prev = _state[j - 1];
            _state[j] = unchecked(1812433253u * (prev ^ (prev >> 30)) + (uint)j);
        }
        _left = 1;
        _next = 0;
        _nextDoubleNormal = null;
    }

    /// <summary>The next 32-bit output of the engine (<c>generator.random()</c> in ATen).</summary>
    /// <returns>A uniformly distributed 32-bit value.</returns>
    public uint NextUInt32()
    {
        if (--_left <= 0)
        {
            NextState();
        }
        uint y = _state[_next++];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >> 18;
        return y;
    }

    /// <summary>ATen's <c>random64()</c>: two 32-bit outputs, the first one the high half.</summary>
    /// <returns>A uniformly distributed 64-bit value.</returns>
    public ulong NextUInt64()
    {
        ulong hi = NextUInt32();
        ulong lo = NextUInt32();
        return (hi << 32) | lo;
    }

    private void NextState()
    {
        uint[] s = _state;
        _left = StateSize;
        _next = 0;
        for (int k = 0; k < StateSize; k++)
        {
            uint y = (s[k] & UpperMask) | (s[(k + 1) % StateSize] & LowerMask);
            s[k] = s[(k + Middle) % StateSize] ^ (y >> 1) ^ ((y & 1) != 0 ? MatrixA : 0u);
        }
    }

    /// <summary>A float uniform in [0, 1) as ATen draws it: 24 random bits times 2^-24.</summary>
    private float NextFloatUniform() => (NextUInt32() & 0xFFFFFFu) * (1.0f / 16777216.0f);

    /// <summary>A double uniform in [0, 1) as ATen draws it: 53 bits of <c>random64()</c> times 2^-53.</summary>
    private double NextDoubleUniform() => (NextUInt64() & ((1UL << 53) - 1)) * (1.0 / 9007199254740992.0);

    /// <summary>
    /// Fills <paramref name="destination"/> with the values of <c>torch.randn(destination.Length, generator=g)</c>
    /// (float32, CPU), advancing the stream as torch does.
    /// </summary>
    /// <param name="destination">The values to fill; its length is the tensor's element count.</param>
    public void FillStandardNormal(Span<float> destination)
    {
        int size = destination.Length;
        if (size >= 16)
        {
            for (int i = 0; i < size; i++)
            {
                destination[i] = NextFloatUniform();
            }
            for (int i = 0; i + 16 <= size; i += 16)
            {
                NormalFill16(destination.Slice(i, 16));
            }
            if (size % 16 != 0)
            {
                Span<float> tail = destination.Slice(size - 16, 16);
                for (int i = 0; i < 16; i++)
                {
                    tail[i] = NextFloatUniform();
                }
                NormalFill16(tail);
            }
        }
        else
        {
            for (int i = 0; i < size; i++)
            {
                destination[i] = (float)NextDoubleNormal();
            }
        }
    }

    private static void NormalFill16(Span<float> data)
    {
        for (int j = 0; j < 8; j++)
        {
            float u1 = 1f - data[j];
            float u2 = data[j + 8];
            float radius = MathF.Sqrt(-2f * MathF.Log(u1));
            float theta = (float)(2.0 * Math.PI * u2);
            data[j] = radius * MathF.Cos(theta);
            data[j + 8] = radius * MathF.Sin(theta);
        }
    }

    /// <summary>ATen's <c>normal_distribution&lt;double&gt;</c>: Box-Muller in double, caching the sine value.</summary>
    private double NextDoubleNormal()
    {
        if (_nextDoubleNormal is double cached)
        {
            _nextDoubleNormal = null;
            return cached;
        }
        double u1 = NextDoubleUniform();
        double u2 = NextDoubleUniform();
        // torch 1.13 computes log(1 - u2); newer releases log1p(-u2), at most an ulp of double apart.
        double r = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        double theta = 2.0 * Math.PI * u1;
        _nextDoubleNormal = r * Math.Sin(theta);
        return r * Math.Cos(theta);
    }
}
