using System.Diagnostics;
using System.Globalization;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DiffusionGrpc.Benchmarks;

/// <summary>
/// The same model and settings through (a) a bare ONNX Runtime loop, (b) Generate on one host and (c)
/// Generate split over four loopback hosts, in one run: time per image, ratios, time to the first
/// preview and peak memory.
/// </summary>
internal static class PipelineBenchmark
{
    public static async Task<int> RunAsync(string modelsPath, string model, int steps, int runs, int size)
    {
        Console.WriteLine($"model {model} ({modelsPath}), {steps} steps, guidance 7.5, {size}x{size}, {runs} runs after 1 warm-up, {Environment.ProcessorCount} cores");
        var raw = RawLoop(Path.Combine(modelsPath, model), steps, runs, size);
        long peakAfterRaw = Process.GetCurrentProcess().PeakWorkingSet64;

        var request = new GenerateRequest { Model = model, Prompt = "a red circle on a blue background", Steps = steps, Seed = 1, GuidanceScale = 7.5f, Width = size, Height = size };
        (double Mean, double FirstPreview) local, split;
        await using (var host = await BenchmarkHost.StartAsync(modelsPath))
        {
            local = await MeasureAsync(host.Client, request, runs);
        }
        long peakAfterLocal = Process.GetCurrentProcess().PeakWorkingSet64;
        await using (var textEncoder = await BenchmarkHost.StartAsync(modelsPath, "Diffusion:Roles=TextEncoder"))
        await using (var denoiser = await BenchmarkHost.StartAsync(modelsPath, "Diffusion:Roles=Denoiser"))
        await using (var vae = await BenchmarkHost.StartAsync(modelsPath, "Diffusion:Roles=VaeDecoder"))
        await using (var orchestrator = await BenchmarkHost.StartAsync(modelsPath, "Diffusion:Roles=Generation",
            $"Diffusion:Remote:TextEncoder={textEncoder.Address}", $"Diffusion:Remote:Denoiser={denoiser.Address}", $"Diffusion:Remote:VaeDecoder={vae.Address}"))
        {
            split = await MeasureAsync(orchestrator.Client, request, runs);
        }
        long peakAfterSplit = Process.GetCurrentProcess().PeakWorkingSet64;

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine("| path | ms / image | vs raw | first preview ms | peak working set MiB (cumulative) |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Console.WriteLine(string.Create(inv, $"| (a) raw ONNX Runtime loop | {raw:0.0} | 1.00 | - | {peakAfterRaw / 1048576.0:0} |"));
        Console.WriteLine(string.Create(inv, $"| (b) Generate, all-in-one | {local.Mean:0.0} | {local.Mean / raw:0.00} | {local.FirstPreview:0.0} | {peakAfterLocal / 1048576.0:0} |"));
        Console.WriteLine(string.Create(inv, $"| (c) Generate, split over loopback | {split.Mean:0.0} | {split.Mean / raw:0.00} | {split.FirstPreview:0.0} | {peakAfterSplit / 1048576.0:0} |"));
        return 0;
    }

    private static async Task<(double Mean, double FirstPreview)> MeasureAsync(Client.DiffusionClient client, GenerateRequest request, int runs)
    {
        double total = 0, firstPreview = 0;
        for (int run = -1; run < runs; run++)
        {
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
                total += clock.Elapsed.TotalMilliseconds;
                firstPreview += preview;
            }
        }
        return (total / runs, firstPreview / runs);
    }

    /// <summary>The floor: text encoder once, the UNet 2B per step with a plain Euler update, the VAE once; no tokenizer, no service.</summary>
    private static double RawLoop(string folder, int steps, int runs, int size)
    {
        var files = new ModelFiles(folder);
        using var options = new SessionOptions();
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        using var textEncoder = new InferenceSession(files.TextEncoder, options);
        using var unet = new InferenceSession(files.Unet, options);
        using var vae = new InferenceSession(files.VaeDecoder, options);
        if (unet.InputMetadata["sample"].ElementDataType != TensorElementType.Float)
        {
            throw new NotSupportedException("The raw loop measures float32 models.");
        }
        int h = size / 8, w = size / 8;
        var idsType = textEncoder.InputMetadata["input_ids"].ElementDataType;
        var timestepMeta = unet.InputMetadata["timestep"];
        double total = 0;
        for (int run = -1; run < runs; run++)
        {
            var clock = Stopwatch.StartNew();
            using var ids = idsType == TensorElementType.Int64
                ? OrtValue.CreateTensorValueFromMemory(new long[2 * 77], [2, 77])
                : OrtValue.CreateTensorValueFromMemory(new int[2 * 77], [2, 77]);
            using var text = textEncoder.Run(new RunOptions(), ["input_ids"], [ids], [textEncoder.OutputNames[0]]);
            var embeddings = text[0].GetTensorDataAsSpan<float>().ToArray();
            int hidden = embeddings.Length / (2 * 77);
            var latents = new float[4 * h * w];
            var sample = new float[2 * latents.Length];
            var output = new float[2 * latents.Length];
            using var sampleValue = OrtValue.CreateTensorValueFromMemory(sample, [2, 4, h, w]);
            using var statesValue = OrtValue.CreateTensorValueFromMemory(embeddings, [2, 77, hidden]);
            using var outputValue = OrtValue.CreateTensorValueFromMemory(output, [2, 4, h, w]);
            using var timestepValue = timestepMeta.ElementDataType == TensorElementType.Int64
                ? OrtValue.CreateTensorValueFromMemory(new long[timestepMeta.Dimensions.Length == 0 ? 1 : 2], timestepMeta.Dimensions.Length == 0 ? [] : timestepMeta.Dimensions[0] == 1 ? [1] : [2])
                : OrtValue.CreateTensorValueFromMemory(new float[timestepMeta.Dimensions.Length == 0 ? 1 : 2], timestepMeta.Dimensions.Length == 0 ? [] : timestepMeta.Dimensions[0] == 1 ? [1] : [2]);
            using var runOptions = new RunOptions();
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
                total += clock.Elapsed.TotalMilliseconds;
            }
        }
        return total / runs;
    }
}
