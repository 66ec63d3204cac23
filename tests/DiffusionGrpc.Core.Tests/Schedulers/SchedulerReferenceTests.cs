using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Schedulers;
using Xunit.Abstractions;

namespace DiffusionGrpc.Core.Tests.Schedulers;

/// <summary>
/// Runs every scheduler through the pipeline's loop and compares with the trajectories of diffusers' own classes
/// (TestData/schedulers/make_scheduler_references.py): integer timesteps exactly (fractional ones to 1e-6), sigmas and init_noise_sigma to 1e-6
/// relative, predicted x0 and final latents to <see cref="RelativeTolerance"/> relative (of max(1, |expected|)).
/// </summary>
public sealed class SchedulerReferenceTests(ITestOutputHelper output)
{
    /// <summary>Allowed |actual − expected| / max(1, |expected|) for latents and x0.</summary>
    public const double RelativeTolerance = 1e-5;

    private static readonly Lazy<JsonElement> Data = new(() => JsonDocument.Parse(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "schedulers", "scheduler_references.json"))).RootElement);

    /// <summary>Every case id of the reference file.</summary>
    public static TheoryData<string> CaseIds()
    {
        var ids = new TheoryData<string>();
        foreach (JsonElement c in Data.Value.GetProperty("cases").EnumerateArray()) ids.Add(c.GetProperty("id").GetString()!);
        return ids;
    }

    /// <summary>One case: what was compared and the largest differences.</summary>
    private sealed record Outcome(string Scheduler, double MaxAbs, double MaxRel, List<string> Failures);

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void MatchesDiffusers(string id)
    {
        JsonElement c = Data.Value.GetProperty("cases").EnumerateArray().First(e => e.GetProperty("id").GetString() == id);
        Outcome o = Run(c);
        Assert.True(o.Failures.Count == 0, $"{id}: max abs {o.MaxAbs:G3}, max rel {o.MaxRel:G3}\n" + string.Join("\n", o.Failures.Take(10)));
    }

    /// <summary>The worst differences per scheduler variant over all cases (the numbers of the issue's report).</summary>
    [Fact]
    public void WorstDifferencePerScheduler()
    {
        var worst = new SortedDictionary<string, (double Abs, double Rel, int Cases)>(StringComparer.Ordinal);
        foreach (JsonElement c in Data.Value.GetProperty("cases").EnumerateArray())
        {
            Outcome o = Run(c);
            var w = worst.GetValueOrDefault(o.Scheduler);
            worst[o.Scheduler] = (Math.Max(w.Abs, o.MaxAbs), Math.Max(w.Rel, o.MaxRel), w.Cases + 1);
        }
        var report = new StringBuilder($"diffusers {Data.Value.GetProperty("diffusers_commit").GetString()}\n");
        foreach (var (name, w) in worst)
            report.AppendLine(CultureInfo.InvariantCulture, $"{name,-16} cases {w.Cases,3}  max |diff| {w.Abs:E2}  max rel {w.Rel:E2}");
        output.WriteLine(report.ToString());
        string? dir = Environment.GetEnvironmentVariable("SCHEDULER_REPORT_DIR");
        if (!string.IsNullOrEmpty(dir)) File.WriteAllText(Path.Combine(dir, "scheduler_worst_diff.txt"), report.ToString());
        Assert.Equal(Data.Value.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("scheduler").GetString()).Distinct().Count(), worst.Count);
        foreach (var (name, w) in worst) Assert.True(w.Rel <= RelativeTolerance, $"{name}: {w.Rel}");
    }

    /// <summary>betas and alphas_cumprod (torch.linspace, the cosine schedule, the zero-SNR rescale, cumprod) bit for bit.</summary>
    [Fact]
    public void NoiseSchedulesMatchTorchExactly()
    {
        foreach (JsonElement e in Data.Value.GetProperty("noise_schedules").EnumerateArray())
        {
            var json = JsonNode.Parse(e.GetProperty("config").GetRawText())!.AsObject();
            json["_class_name"] = "DDIMScheduler";
            var settings = SchedulerSettings.Resolve(SchedulerType.Ddim, SchedulerConfig.Parse(json.ToJsonString()), SchedulerOverrides.None);
            float[] betas = NoiseSchedule.Betas(settings);
            float[] alphasCumprod = NoiseSchedule.AlphasCumprod(betas);
            float[] expectedBetas = e.GetProperty("betas").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            float[] expectedCumprod = e.GetProperty("alphas_cumprod").EnumerateArray().Select(v => v.GetSingle()).ToArray();
            string config = e.GetProperty("config").GetRawText();
            Assert.Equal(expectedBetas.Length, betas.Length);
            for (int i = 0; i < betas.Length; i++)
            {
                Assert.True(expectedBetas[i] == betas[i], $"{config} betas[{i}]: expected {expectedBetas[i]:R}, got {betas[i]:R}");
                Assert.True(expectedCumprod[i] == alphasCumprod[i], $"{config} alphas_cumprod[{i}]: expected {expectedCumprod[i]:R}, got {alphasCumprod[i]:R}");
            }
        }
    }

    private static SchedulerType TypeOf(string className) =>
        SchedulerNames.TryFromClassName(className, out SchedulerType t) ? t : throw new InvalidOperationException(className);

    private static Outcome Run(JsonElement c)
    {
        JsonElement data = Data.Value;
        string name = c.GetProperty("scheduler").GetString()!;
        string className = c.GetProperty("class").GetString()!;
        int steps = c.GetProperty("steps").GetInt32();
        int batch = c.GetProperty("batch").GetInt32();
        float eta = c.GetProperty("eta").GetSingle();

        // The case's config as a scheduler_config.json, read like any model's (from_config semantics).
        var json = JsonNode.Parse(c.GetProperty("config").GetRawText())!.AsObject();
        json["_class_name"] = className;
        SchedulerConfig config = SchedulerConfig.Parse(json.ToJsonString());
        Assert.Equal(TypeOf(className), config.Type);
        IScheduler scheduler = new SchedulerFactory().Create(config, new SchedulerOverrides(Eta: eta), steps);

        var failures = new List<string>();
        double maxAbs = 0, maxRel = 0;
        void Compare(string what, JsonElement expected, ReadOnlySpan<float> actual, double tolerance)
        {
            if (expected.GetArrayLength() != actual.Length)
            {
                failures.Add($"{what}: length {actual.Length}, expected {expected.GetArrayLength()}");
                return;
            }
            int k = 0;
            foreach (JsonElement e in expected.EnumerateArray())
            {
                double want = e.GetDouble(), got = actual[k];
                double abs = Math.Abs(got - want), rel = abs / Math.Max(1.0, Math.Abs(want));
                if (!double.IsFinite(got)) rel = abs = double.PositiveInfinity;
                if (tolerance == RelativeTolerance)
                {
                    maxAbs = Math.Max(maxAbs, abs);
                    maxRel = Math.Max(maxRel, rel);
                }
                if (!(rel <= tolerance) && failures.Count < 20) failures.Add($"{what}[{k}]: expected {want:R}, got {got:R}");
                k++;
            }
        }

        JsonElement schedule = data.GetProperty("schedules").GetProperty($"{name}/{c.GetProperty("spacing").GetString()}/{steps}");
        double[] expectedTimesteps = schedule.GetProperty("timesteps").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        // Integer timesteps exactly; fractional ones (LMS/Euler with Karras sigmas) to 1e-6 relative, since numpy's own
        // SIMD log (used by _sigma_to_t) differs from the C runtime's by an ulp on some inputs.
        bool timestepsMatch = expectedTimesteps.Length == scheduler.Timesteps.Count;
        for (int i = 0; timestepsMatch && i < expectedTimesteps.Length; i++)
        {
            double want = expectedTimesteps[i], got = scheduler.Timesteps[i];
            timestepsMatch = want == Math.Floor(want) ? got == want : Math.Abs(got - want) <= 1e-6 * Math.Max(1, Math.Abs(want));
        }
        if (!timestepsMatch)
            failures.Add($"timesteps: expected [{string.Join(", ", expectedTimesteps)}], got [{string.Join(", ", scheduler.Timesteps)}]");
        double init = schedule.GetProperty("init_noise_sigma").GetDouble();
        if (Math.Abs((float)scheduler.InitNoiseSigma - init) > 1e-6 * Math.Max(1, init))
            failures.Add($"init_noise_sigma: expected {init:R}, got {scheduler.InitNoiseSigma:R}");
        IReadOnlyList<float>? sigmas = scheduler switch
        {
            LmsDiscreteScheduler s => s.Sigmas,
            EulerDiscreteScheduler s => s.Sigmas,
            EulerAncestralDiscreteScheduler s => s.Sigmas,
            DpmSolverMultistepScheduler s => s.Sigmas,
            _ => null,
        };
        if (schedule.GetProperty("sigmas").ValueKind == JsonValueKind.Array && sigmas is not null)
            Compare("sigmas", schedule.GetProperty("sigmas"), sigmas.ToArray(), 1e-6);
        if (failures.Count > 0) return new Outcome(name, double.PositiveInfinity, double.PositiveInfinity, failures);

        // The pipeline's loop with the synthetic model of the script.
        JsonElement model = data.GetProperty("model");
        float[] a = model.GetProperty("A").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] b = model.GetProperty("B").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        float[] g = model.GetProperty("G").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        int size = a.Length;
        var noise = new GeneratorNoiseSource(data.GetProperty("seed").GetUInt64(), batch);
        var latents = new float[batch * size];
        var input = new float[batch * size];
        var modelOutput = new float[batch * size];
        var x0 = new float[batch * size];
        noise.FillStandardNormal(latents);
        float initSigma = (float)scheduler.InitNoiseSigma;
        for (int i = 0; i < latents.Length; i++) latents[i] *= initSigma;

        JsonElement x0s = c.GetProperty("x0");
        for (int step = 0; step < scheduler.Timesteps.Count; step++)
        {
            double t = scheduler.Timesteps[step];
            float scale = (float)scheduler.ModelInputScale(step);
            float tt = (float)(t / 1000.0);
            for (int i = 0; i < latents.Length; i++)
            {
                input[i] = latents[i] * scale;
                int e = i % size;
                modelOutput[i] = a[e] * input[i] + (b[e] * tt + g[e]);
            }
            scheduler.Step(step, modelOutput, latents, x0, noise);
            if (x0s.TryGetProperty(step.ToString(CultureInfo.InvariantCulture), out JsonElement expectedX0))
                Compare($"x0 of step {step}", expectedX0, x0, RelativeTolerance);
        }
        Compare("final latents", c.GetProperty("final"), latents, RelativeTolerance);
        return new Outcome(name, maxAbs, maxRel, failures);
    }
}
