using System.Text.Json;
using DiffusionGrpc.Core.Noise;

namespace DiffusionGrpc.Core.Tests.Noise;

/// <summary>Compares <see cref="TorchGenerator"/> with torch.randn values from TestData/noise/make_noise_references.py.</summary>
public sealed class TorchGeneratorTests
{
    private const double Tolerance = 1e-5;

    private static readonly JsonElement References = JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "noise", "noise_references.json"))).RootElement;

    /// <summary>Max |diff| over every compared value of every test, for the report.</summary>
    private static double Compare(JsonElement expected, float[] actual)
    {
        Assert.Equal(expected.GetProperty("n").GetInt32(), actual.Length);
        double max = 0;
        void Check(JsonElement values, int offset)
        {
            int k = 0;
            foreach (JsonElement v in values.EnumerateArray())
            {
                double diff = Math.Abs(v.GetDouble() - actual[offset + k]);
                max = Math.Max(max, diff);
                Assert.True(diff <= Tolerance, $"index {offset + k}: expected {v.GetDouble()}, got {actual[offset + k]}");
                k++;
            }
        }
        if (expected.TryGetProperty("values", out JsonElement all))
        {
            Check(all, 0);
        }
        else
        {
            Check(expected.GetProperty("first"), 0);
            Check(expected.GetProperty("last"), actual.Length - 32);
            double sum = actual.Sum(x => (double)x);
            Assert.True(Math.Abs(sum - expected.GetProperty("sum").GetDouble()) <= Tolerance * actual.Length, "sum");
            Assert.True(Math.Abs(sum / actual.Length - expected.GetProperty("mean").GetDouble()) <= Tolerance, "mean");
        }
        return max;
    }

    private static float[] Randn(TorchGenerator g, int n)
    {
        var values = new float[n];
        g.FillStandardNormal(values);
        return values;
    }

    [Fact]
    public void SingleCallsMatchTorch()
    {
        double max = 0;
        int count = 0;
        foreach (JsonElement e in References.GetProperty("single").EnumerateArray())
        {
            var g = new TorchGenerator(e.GetProperty("seed").GetUInt64());
            max = Math.Max(max, Compare(e, Randn(g, e.GetProperty("n").GetInt32())));
            count++;
        }
        Assert.True(count >= 100);
        Console.WriteLine($"single: {count} cases, max diff {max:E3}");
    }

    [Fact]
    public void SequencesOfCallsMatchTorch()
    {
        double max = 0;
        foreach (JsonElement e in References.GetProperty("sequences").EnumerateArray())
        {
            var g = new TorchGenerator(e.GetProperty("seed").GetUInt64());
            foreach (JsonElement call in e.GetProperty("calls").EnumerateArray())
            {
                max = Math.Max(max, Compare(call, Randn(g, call.GetProperty("n").GetInt32())));
            }
        }
        Console.WriteLine($"sequences: max diff {max:E3}");
    }

    [Fact]
    public void PipelineShapesMatchTorchThroughNoiseSource()
    {
        double max = 0;
        foreach (JsonElement e in References.GetProperty("shapes").EnumerateArray())
        {
            ulong seed = e.GetProperty("seed").GetUInt64();
            int n = e.GetProperty("shape").EnumerateArray().Aggregate(1, (a, d) => a * d.GetInt32());
            // A batch of 2 whose first image has this seed: slice 0 is the reference, slice 1 is seed + 1's.
            var source = new GeneratorNoiseSource(seed, 2);
            var batch = new float[2 * n];
            source.FillStandardNormal(batch);
            max = Math.Max(max, Compare(e.GetProperty("initial"), batch[..n]));
            Assert.Equal(Randn(new TorchGenerator(seed + 1), n), batch[n..]);
            source.FillStandardNormal(batch);
            max = Math.Max(max, Compare(e.GetProperty("next"), batch[..n]));
        }
        Console.WriteLine($"shapes: max diff {max:E3}");
    }

    [Fact]
    public void OnlyTheLow32BitsOfTheSeedMatter()
    {
        Assert.Equal(Randn(new TorchGenerator(5), 40), Randn(new TorchGenerator((1UL << 40) + 5), 40));
    }

    [Fact]
    public void ManualSeedResetsTheCachedNormal()
    {
        var g = new TorchGenerator(7);
        float[] first = Randn(g, 1);
        g.ManualSeed(7);
        Assert.Equal(first, Randn(g, 1));
    }

    [Fact]
    public void NoiseSourceSeedsWrapAtUInt64Overflow()
    {
        var source = new GeneratorNoiseSource(ulong.MaxValue, 2);
        Assert.Equal(0UL, source.GetGenerator(1).Seed);
        Assert.Throws<ArgumentException>(() => source.FillStandardNormal(new float[3]));
    }
}
