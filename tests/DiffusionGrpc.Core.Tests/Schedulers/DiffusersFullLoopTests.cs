using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Schedulers;

namespace DiffusionGrpc.Core.Tests.Schedulers;

/// <summary>
/// The <c>test_full_loop*</c> expectations of diffusers' own tests/schedulers/test_scheduler_*.py (sum and mean of
/// |sample| after the loop, with diffusers' tolerances), run with the same configs, dummy model
/// (<c>sample · t / (t + 1)</c>), deterministic sample (<c>arange(768)</c> laid out [3,8,8,4] and permuted to
/// [4,3,8,8], / 768) and loop. Unlike the pipeline, these loops feed the scaled sample back into <c>step</c>; the
/// generator, where the test passes one, is <c>torch.manual_seed(0)</c> for the whole batch.
/// </summary>
public sealed class DiffusersFullLoopTests
{
    private const string Linear1100 = """{"num_train_timesteps": 1100, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}""";

    private static float[] DeterministicSample()
    {
        const int B = 4, C = 3, H = 8, W = 8, N = B * C * H * W;
        var sample = new float[N];
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
                for (int h = 0; h < H; h++)
                    for (int w = 0; w < W; w++)
                        sample[((b * C + c) * H + h) * W + w] = (float)(((c * H + h) * W + w) * B + b) / N;
        return sample;
    }

    private static (double Sum, double Mean) FullLoop(SchedulerType type, string baseConfig, int steps, string? extra = null, float eta = 0f)
    {
        string json = baseConfig.TrimEnd().TrimEnd('}') + ", \"_class_name\": \"" + SchedulerNames.ClassName(type) + "\"" + (extra is null ? "" : ", " + extra) + "}";
        IScheduler scheduler = new SchedulerFactory().Create(SchedulerConfig.Parse(json), new SchedulerOverrides(Eta: eta), steps);
        float[] sample = DeterministicSample();
        float init = (float)scheduler.InitNoiseSigma;
        for (int i = 0; i < sample.Length; i++) sample[i] *= init;
        var output = new float[sample.Length];
        var x0 = new float[sample.Length];
        var generator = new GeneratorNoiseSource(0, 1);
        for (int step = 0; step < scheduler.Timesteps.Count; step++)
        {
            float scale = (float)scheduler.ModelInputScale(step);
            float t = (float)scheduler.Timesteps[step];
            for (int i = 0; i < sample.Length; i++)
            {
                sample[i] *= scale;
                output[i] = sample[i] * t / (t + 1f);
            }
            scheduler.Step(step, output, sample, x0, generator);
        }
        double sum = 0;
        foreach (float v in sample) sum += Math.Abs(v);
        return (sum, sum / sample.Length);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(actual - expected) < tolerance, $"{what}: expected {expected}, got {actual}");

    [Theory]
    [InlineData(null, 1006.388, 1.31, 1e-2)]                               // test_full_loop_no_noise
    [InlineData("\"prediction_type\": \"v_prediction\"", 0.0017, 2.2676e-06, 1e-2)] // test_full_loop_with_v_prediction
    [InlineData("\"use_karras_sigmas\": true", 3812.9927, 4.9648, 2e-2)]    // test_full_loop_device_karras_sigmas
    public void Lms(string? extra, double sum, double mean, double sumTolerance)
    {
        var r = FullLoop(SchedulerType.Lms, Linear1100, 10, extra);
        AssertClose(sum, r.Sum, sumTolerance, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    [Theory]
    [InlineData(null, 10.0807, 0.0131)]
    [InlineData("\"prediction_type\": \"v_prediction\"", 0.0002, 2.2676e-06)]
    [InlineData("\"use_karras_sigmas\": true", 124.52299499511719, 0.16213932633399963)]
    public void Euler(string? extra, double sum, double mean)
    {
        var r = FullLoop(SchedulerType.Euler, Linear1100, 10, extra);
        AssertClose(sum, r.Sum, 1e-2, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    [Theory]
    [InlineData(null, 152.3192, 0.1983)]
    [InlineData("\"prediction_type\": \"v_prediction\"", 108.4439, 0.1412)]
    public void EulerAncestral(string? extra, double sum, double mean)
    {
        var r = FullLoop(SchedulerType.EulerAncestral, Linear1100, 10, extra);
        AssertClose(sum, r.Sum, 1e-2, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    private const string DdimConfig = """{"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "clip_sample": true}""";

    [Theory]
    [InlineData(null, 172.0067, 0.223967)]
    [InlineData("\"prediction_type\": \"v_prediction\"", 52.5302, 0.0684)]
    [InlineData("\"set_alpha_to_one\": true, \"beta_start\": 0.01", 149.8295, 0.1951)]
    [InlineData("\"set_alpha_to_one\": false, \"beta_start\": 0.01", 149.0784, 0.1941)]
    public void Ddim(string? extra, double sum, double mean)
    {
        var r = FullLoop(SchedulerType.Ddim, WithoutOverriddenBetaStart(DdimConfig, extra), 10, extra);
        AssertClose(sum, r.Sum, 1e-2, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    /// <summary>
    /// The base config without its beta_start when the extra keys set one, so the override does not rely on
    /// JSON's last-duplicate-wins.
    /// </summary>
    private static string WithoutOverriddenBetaStart(string config, string? extra) =>
        extra is not null && extra.Contains("beta_start", StringComparison.Ordinal)
            ? config.Replace("\"beta_start\": 0.0001, ", "", StringComparison.Ordinal)
            : config;

    private const string PndmConfig = """{"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear"}""";

    [Theory]
    [InlineData(null, 198.1318, 0.2580)]
    [InlineData("\"prediction_type\": \"v_prediction\"", 67.3986, 0.0878)]
    [InlineData("\"set_alpha_to_one\": true, \"beta_start\": 0.01", 230.0399, 0.2995)]
    [InlineData("\"set_alpha_to_one\": false, \"beta_start\": 0.01", 186.9482, 0.2434)]
    public void PndmWithPrkSteps(string? extra, double sum, double mean)
    {
        var r = FullLoop(SchedulerType.Pndm, WithoutOverriddenBetaStart(PndmConfig, extra), 10, extra);
        AssertClose(sum, r.Sum, 1e-2, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    private const string DpmConfig = """
        {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "solver_order": 2,
         "thresholding": false, "sample_max_value": 1.0, "algorithm_type": "dpmsolver++", "solver_type": "midpoint",
         "lower_order_final": false, "euler_at_final": false, "lambda_min_clipped": "-inf", "variance_type": null,
         "final_sigmas_type": "sigma_min"}
        """;

    [Theory]
    [InlineData("\"prediction_type\": \"epsilon\"", 0.3301)]                             // test_full_loop_no_noise
    [InlineData("\"prediction_type\": \"v_prediction\"", 0.2251)]                        // test_full_loop_with_v_prediction
    [InlineData("\"prediction_type\": \"v_prediction\", \"use_karras_sigmas\": true", 0.2096)] // ..._with_karras_and_v_prediction
    public void DpmSolverMultistep(string extra, double mean)
    {
        var r = FullLoop(SchedulerType.DpmSolverMultistep, DpmConfig, 10, extra);
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }

    private const string LcmConfig = """{"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.0120, "beta_schedule": "scaled_linear", "prediction_type": "epsilon"}""";

    [Theory]
    [InlineData(1, 18.7097, 0.0244)]   // test_full_loop_onestep
    [InlineData(10, 197.7616, 0.2575)] // test_full_loop_multistep
    public void Lcm(int steps, double sum, double mean)
    {
        var r = FullLoop(SchedulerType.Lcm, LcmConfig, steps);
        AssertClose(sum, r.Sum, 1e-3, "sum");
        AssertClose(mean, r.Mean, 1e-3, "mean");
    }
}
