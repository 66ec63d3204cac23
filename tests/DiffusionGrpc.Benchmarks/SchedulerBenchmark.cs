using System.Diagnostics;
using System.Globalization;
using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Schedulers;

namespace DiffusionGrpc.Benchmarks;

/// <summary>
/// Time per step of each scheduler alone (no UNet: a fixed model output) on one 4x64x64 latent, Stable Diffusion
/// 1.5's config, 50 steps a run: <c>Step</c> only, including the noise that ancestral, DDIM (eta &gt; 0) and LCM
/// draw from the image's generator.
/// </summary>
internal static class SchedulerBenchmark
{
    private const string Sd15 = """{"_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "steps_offset": 1, "skip_prk_steps": true, "set_alpha_to_one": false, "clip_sample": false}""";

    private static readonly (string Name, SchedulerOverrides Overrides)[] Variants =
    [
        ("LMS", new SchedulerOverrides(SchedulerType.Lms)),
        ("LMS Karras", new SchedulerOverrides(SchedulerType.Lms, UseKarrasSigmas: true)),
        ("Euler", new SchedulerOverrides(SchedulerType.Euler)),
        ("Euler ancestral", new SchedulerOverrides(SchedulerType.EulerAncestral)),
        ("DDIM (eta 0)", new SchedulerOverrides(SchedulerType.Ddim)),
        ("DDIM (eta 0.5)", new SchedulerOverrides(SchedulerType.Ddim, Eta: 0.5f)),
        ("PNDM (PLMS)", new SchedulerOverrides(SchedulerType.Pndm)),
        ("DPM++ 2M", new SchedulerOverrides(SchedulerType.DpmSolverMultistep)),
        ("DPM++ 2M Karras", new SchedulerOverrides(SchedulerType.DpmSolverMultistep, UseKarrasSigmas: true)),
        ("LCM", new SchedulerOverrides(SchedulerType.Lcm)),
    ];

    public static int Run(int loops = 20)
    {
        const int size = 4 * 64 * 64;
        const int steps = 50;
        var config = SchedulerConfig.Parse(Sd15);
        var factory = new SchedulerFactory();
        var output = new float[size];
        var sample = new float[size];
        var x0 = new float[size];
        var noise = new GeneratorNoiseSource(0, 1);
        noise.FillStandardNormal(output);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| scheduler | µs / step, median | µs / step, best | (1x4x64x64, {steps} steps a run, {loops} runs after a warm-up run) |"));
        Console.WriteLine("|---|---:|---:|---|");
        foreach (var (name, overrides) in Variants)
        {
            var perStep = new List<double>(loops);
            for (int loop = 0; loop <= loops; loop++)
            {
                var scheduler = factory.Create(config, overrides, steps);
                noise.FillStandardNormal(sample);
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < scheduler.Timesteps.Count; i++)
                {
                    scheduler.Step(i, output, sample, x0, noise);
                }
                if (loop > 0)
                {
                    perStep.Add(clock.Elapsed.TotalMicroseconds / scheduler.Timesteps.Count);
                }
            }
            perStep.Sort();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {perStep[perStep.Count / 2]:0.0} | {perStep[0]:0.0} | |"));
        }
        return 0;
    }
}
