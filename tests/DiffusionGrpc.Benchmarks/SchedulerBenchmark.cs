using System.Diagnostics;
using System.Globalization;
using DiffusionGrpc.Core.Noise;
using DiffusionGrpc.Core.Schedulers;

namespace DiffusionGrpc.Benchmarks;

/// <summary>Time per step of each scheduler alone (no UNet) on a 4x64x64 latent.</summary>
internal static class SchedulerBenchmark
{
    public static int Run()
    {
        const int size = 4 * 64 * 64;
        var config = SchedulerConfig.Parse("""{"_class_name": "LMSDiscreteScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "steps_offset": 1}""");
        var factory = new SchedulerFactory();
        var output = new float[size];
        var sample = new float[size];
        var x0 = new float[size];
        var noise = new GeneratorNoiseSource(0, 1);
        noise.FillStandardNormal(output);
        Console.WriteLine("| scheduler | µs / step (4x64x64, 50 steps, mean of 20 loops) |");
        Console.WriteLine("|---|---:|");
        foreach (var type in Enum.GetValues<SchedulerType>())
        {
            double best = double.MaxValue;
            for (int loop = 0; loop < 21; loop++)
            {
                var scheduler = factory.Create(config, new SchedulerOverrides(type, null, null, type == SchedulerType.Ddim ? 0.5f : 0f), type == SchedulerType.Lcm ? 8 : 50);
                noise.FillStandardNormal(sample);
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < scheduler.Timesteps.Count; i++)
                {
                    scheduler.Step(i, output, sample, x0, noise);
                }
                double perStep = clock.Elapsed.TotalMicroseconds / scheduler.Timesteps.Count;
                if (loop > 0)
                {
                    best = Math.Min(best, perStep);
                }
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {type} | {best:0.0} |"));
        }
        return 0;
    }
}
