using System.Diagnostics;
using System.Globalization;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Onnx;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Benchmarks;

/// <summary>
/// The same model and settings through (a) a bare ONNX Runtime loop, (b) Generate on one host and (c)
/// Generate split over four loopback hosts, in one run: time per image (median of the runs), ratios to
/// (a), time to the first preview, managed allocations per image and peak memory; once with ONNX
/// Runtime's intra-op threads sleeping when idle (the service's default) and once spinning.
/// </summary>
internal static class PipelineBenchmark
{
    private const int WarmUpRuns = 2;

    /// <summary>Runs the benchmark; <paramref name="spinning"/> is "off", "on" or "both".</summary>
    public static async Task<int> RunAsync(string modelsPath, string model, int steps, int runs, int size, string spinning)
    {
        bool[] modes = spinning switch
        {
            "off" => [false],
            "on" => [true],
            "both" => [false, true],
            _ => throw new ArgumentException($"spinning must be off, on or both, got '{spinning}'."),
        };
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv,
            $"model {model} ({modelsPath}), {steps} steps, guidance 7.5, {size}x{size}, LATENT_RGB JPEG previews every step, PNG output; median of {runs} runs after {WarmUpRuns} warm-ups; {Environment.ProcessorCount} cores"));
        foreach (bool spin in modes)
        {
            await RunModeAsync(modelsPath, model, steps, runs, size, spin);
        }
        return 0;
    }

    private static async Task RunModeAsync(string modelsPath, string model, int steps, int runs, int size, bool spin)
    {
        var inv = CultureInfo.InvariantCulture;
        string spinSetting = $"Diffusion:IntraOpSpinning={spin}";
        var raw = RawLoop(Path.Combine(modelsPath, model), steps, runs, size, spin);
        long peakAfterRaw = Process.GetCurrentProcess().PeakWorkingSet64;

        var request = new GenerateRequest { Model = model, Prompt = "a red circle on a blue background", Steps = steps, Seed = 1, GuidanceScale = 7.5f, Width = size, Height = size };
        Measurement local, bare, split;
        await using (var host = await BenchmarkHost.StartAsync(modelsPath, spinSetting))
        {
            local = await MeasureAsync(host.Client, request, runs);
            var noPreviews = request.Clone();
            noPreviews.Preview = new PreviewOptions { Kind = PreviewKind.None };
            bare = await MeasureAsync(host.Client, noPreviews, runs);
        }
        long peakAfterLocal = Process.GetCurrentProcess().PeakWorkingSet64;
        await using (var textEncoder = await BenchmarkHost.StartAsync(modelsPath, spinSetting, "Diffusion:Roles=TextEncoder"))
        await using (var denoiser = await BenchmarkHost.StartAsync(modelsPath, spinSetting, "Diffusion:Roles=Denoiser"))
        await using (var vae = await BenchmarkHost.StartAsync(modelsPath, spinSetting, "Diffusion:Roles=VaeDecoder"))
        await using (var orchestrator = await BenchmarkHost.StartAsync(modelsPath, spinSetting, "Diffusion:Roles=Generation",
            $"Diffusion:Remote:TextEncoder={textEncoder.Address}", $"Diffusion:Remote:Denoiser={denoiser.Address}", $"Diffusion:Remote:VaeDecoder={vae.Address}"))
        {
            split = await MeasureAsync(orchestrator.Client, request, runs);
        }
        long peakAfterSplit = Process.GetCurrentProcess().PeakWorkingSet64;

        Console.WriteLine();
        Console.WriteLine($"ONNX Runtime intra-op spinning {(spin ? "ON (allow_spinning=1)" : "OFF (allow_spinning=0, the default)")}:");
        Console.WriteLine("| path | ms / image (median) | min..max | vs raw | first preview ms | managed alloc MiB / image | peak working set MiB (process, so far) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(inv, $"| (a) raw ONNX Runtime loop | {raw.Median:0.0} | {raw.Min:0.0}..{raw.Max:0.0} | 1.00 | - | {raw.AllocatedMiB:0.00} | {peakAfterRaw / 1048576.0:0} |"));
        Console.WriteLine(string.Create(inv, $"| (b) Generate, all-in-one | {local.Median:0.0} | {local.Min:0.0}..{local.Max:0.0} | {local.Median / raw.Median:0.00} | {local.FirstPreview:0.0} | {local.AllocatedMiB:0.00} | {peakAfterLocal / 1048576.0:0} |"));
        Console.WriteLine(string.Create(inv, $"| (b) same, previews NONE | {bare.Median:0.0} | {bare.Min:0.0}..{bare.Max:0.0} | {bare.Median / raw.Median:0.00} | - | {bare.AllocatedMiB:0.00} | {peakAfterLocal / 1048576.0:0} |"));
        Console.WriteLine(string.Create(inv, $"| (c) Generate, split over loopback | {split.Median:0.0} | {split.Min:0.0}..{split.Max:0.0} | {split.Median / raw.Median:0.00} | {split.FirstPreview:0.0} | {split.AllocatedMiB:0.00} | {peakAfterSplit / 1048576.0:0} |"));
    }

    private static async Task<Measurement> MeasureAsync(Client.DiffusionClient client, GenerateRequest request, int runs)
    {
        var times = new List<double>();
        var previews = new List<double>();
        long allocated = 0;
        for (int run = -WarmUpRuns; run < runs; run++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: false);
            var clock = Stopwatch.StartNew();
            double preview = -1;
            await foreach (var update in client.GenerateAsync(request))
            {
                if (preview < 0 && update.Step is { Previews.Count: > 0 })
                {
                    preview = clock.Elapsed.TotalMilliseconds;
                }
            }
            if (run >= 0)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
                previews.Add(preview);
                allocated += GC.GetTotalAllocatedBytes(precise: false) - before;
            }
        }
        return new Measurement(times, Median(previews), allocated / (double)runs / 1048576.0);
    }

    /// <summary>
    /// The floor: the text encoder once (2 rows), the UNet on 2B rows per step with a plain Euler-like update
    /// and the guidance arithmetic, the VAE once; sessions made by the service's factory (same provider,
    /// threads and spinning), no tokenizer, no scheduler, no previews, no service.
    /// </summary>
    private static Measurement RawLoop(string folder, int steps, int runs, int size, bool spin)
    {
        var files = new ModelFiles(folder);
        var factory = new OnnxSessionFactory(ExecutionProvider.Auto, NullLogger.Instance, intraOpSpinning: spin);
        using var textEncoder = factory.Create(files.TextEncoder);
        using var unet = factory.Create(files.Unet);
        using var vae = factory.Create(files.VaeDecoder);
        if (unet.InputMetadata["sample"].ElementDataType != TensorElementType.Float)
        {
            throw new NotSupportedException("The raw loop measures float32 models.");
        }
        int h = size / 8, w = size / 8;
        var idsType = textEncoder.InputMetadata["input_ids"].ElementDataType;
        var timestepMeta = unet.InputMetadata["timestep"];
        long[] timestepShape = timestepMeta.Dimensions.Length == 0 ? [] : timestepMeta.Dimensions[0] == 1 ? [1] : [2];
        var times = new List<double>();
        long allocated = 0;
        for (int run = -WarmUpRuns; run < runs; run++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: false);
            var clock = Stopwatch.StartNew();
            using var ids = idsType == TensorElementType.Int64
                ? OrtValue.CreateTensorValueFromMemory(new long[2 * 77], [2, 77])
                : OrtValue.CreateTensorValueFromMemory(new int[2 * 77], [2, 77]);
            using var runOptions = new RunOptions();
            using var text = textEncoder.Run(runOptions, ["input_ids"], [ids], [textEncoder.OutputNames[0]]);
            var embeddings = text[0].GetTensorDataAsSpan<float>().ToArray();
            int hidden = embeddings.Length / (2 * 77);
            var latents = new float[4 * h * w];
            var sample = new float[2 * latents.Length];
            var output = new float[2 * latents.Length];
            using var sampleValue = OrtValue.CreateTensorValueFromMemory(sample, [2, 4, h, w]);
            using var statesValue = OrtValue.CreateTensorValueFromMemory(embeddings, [2, 77, hidden]);
            using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [2, 4, h, w]);
            using var timestepValue = timestepMeta.ElementDataType == TensorElementType.Int64
                ? OrtValue.CreateTensorValueFromMemory(new long[Math.Max(1, timestepShape.Length == 0 ? 1 : (int)timestepShape[0])], timestepShape)
                : OrtValue.CreateTensorValueFromMemory(new float[Math.Max(1, timestepShape.Length == 0 ? 1 : (int)timestepShape[0])], timestepShape);
            for (int s = 0; s < steps; s++)
            {
                latents.AsSpan().CopyTo(sample);
                latents.AsSpan().CopyTo(sample.AsSpan(latents.Length));
                unet.Run(runOptions, ["sample", "timestep", "encoder_hidden_states"], [sampleValue, timestepValue, statesValue], [unet.OutputNames[0]], [outputValue]);
                for (int i = 0; i < latents.Length; i++)
                {
                    float guided = output[i] + 7.5f * (output[latents.Length + i] - output[i]);
                    latents[i] -= 0.01f * guided;
                }
            }
            using var latentValue = OrtValue.CreateTensorValueFromMemory(latents, [1, 4, h, w]);
            using var image = vae.Run(runOptions, ["latent_sample"], [latentValue], [vae.OutputNames[0]]);
            if (run >= 0)
            {
                times.Add(clock.Elapsed.TotalMilliseconds);
                allocated += GC.GetTotalAllocatedBytes(precise: false) - before;
            }
        }
        return new Measurement(times, 0, allocated / (double)runs / 1048576.0);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n == 0 ? 0 : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private sealed record Measurement(List<double> Times, double FirstPreview, double AllocatedMiB)
    {
        public double Median => PipelineBenchmark.Median(Times);

        public double Min => Times.Min();

        public double Max => Times.Max();
    }
}
