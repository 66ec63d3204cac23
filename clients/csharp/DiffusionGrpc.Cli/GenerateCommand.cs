using System.CommandLine;
using System.Globalization;
using DiffusionGrpc.Client;
using DiffusionGrpc.Contracts.V1;
using Grpc.Core;

namespace DiffusionGrpc.Cli;

/// <summary><c>diffusion generate "prompt" -o out.png</c>: one Generate call with a progress bar and optional previews.</summary>
internal static class GenerateCommand
{
    public static Command Create(Option<string?> address, Option<string[]> hostOptions)
    {
        var prompt = new Argument<string>("prompt") { Description = "What the image should show." };
        var output = new Option<string>("--output", "-o") { Description = "Output file (image i > 0 gets a -i suffix).", DefaultValueFactory = _ => "out.png" };
        var negative = new Option<string>("--negative", "-n") { Description = "Negative prompt.", DefaultValueFactory = _ => "" };
        var model = new Option<string>("--model", "-m") { Description = "Model id; empty = the server's default.", DefaultValueFactory = _ => "" };
        var steps = new Option<int>("--steps") { Description = "Inference steps; 0 = model default." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed; absent = random." };
        var scheduler = new Option<SchedulerKind>("--scheduler") { Description = "LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M, LCM; absent = the model's.", CustomParser = r => ParseScheduler(r.Tokens[0].Value) };
        var guidance = new Option<float?>("--guidance", "-g") { Description = "Classifier-free guidance scale; absent = model default; <= 1 = none." };
        var size = new Option<string?>("--size") { Description = "WIDTHxHEIGHT or one number for both; absent = model default." };
        var images = new Option<int>("--num-images") { Description = "Images to generate (seed, seed+1, ...).", DefaultValueFactory = _ => 1 };
        var previews = new Option<string?>("--previews") { Description = "Folder to save each step's preview in." };
        var previewKind = new Option<PreviewKind>("--preview-kind") { Description = "LATENT_RGB (default), VAE or NONE.", CustomParser = r => Enum.Parse<PreviewKind>(r.Tokens[0].Value.Replace("_", ""), ignoreCase: true) };

        var command = new Command("generate", "Generate an image from a prompt.")
        {
            prompt, output, negative, model, steps, seed, scheduler, guidance, size, images, previews, previewKind,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var request = new GenerateRequest
            {
                Prompt = parse.GetValue(prompt)!,
                NegativePrompt = parse.GetValue(negative)!,
                Model = parse.GetValue(model)!,
                Steps = parse.GetValue(steps),
                NumImages = parse.GetValue(images),
                Scheduler = new SchedulerOptions { Kind = parse.GetValue(scheduler) },
                Preview = new PreviewOptions { Kind = parse.GetValue(previewKind) },
                GuidanceScale = parse.GetValue(guidance),
                Seed = parse.GetValue(seed),
            };
            if (parse.GetValue(size) is { } s)
            {
                (request.Width, request.Height) = ParseSize(s);
            }
            return await RunAsync(parse.GetValue(address), parse.GetValue(hostOptions) ?? [], request, parse.GetValue(output)!, parse.GetValue(previews), cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(string? address, string[] hostArgs, GenerateRequest request, string output, string? previewDir, CancellationToken cancellationToken)
    {
        await using var server = address is null ? await InProcessServer.StartAsync(hostArgs, cancellationToken) : null;
        using var client = DiffusionClient.Connect(address ?? server!.Address);
        if (previewDir is not null)
        {
            Directory.CreateDirectory(previewDir);
        }
        var bar = new ProgressBar(Console.Error);
        try
        {
            await foreach (var update in client.GenerateAsync(request, cancellationToken))
            {
                switch (update.UpdateCase)
                {
                    case GenerateUpdate.UpdateOneofCase.Queued:
                        bar.Draw(0, 1, $"queued at position {update.Queued.Position}");
                        break;
                    case GenerateUpdate.UpdateOneofCase.Step:
                        var step = update.Step;
                        bar.Draw(step.Step, step.TotalSteps, string.Create(CultureInfo.InvariantCulture, $"t={step.Timestep:0.##} {step.ElapsedSeconds:0.00}s"));
                        if (previewDir is not null)
                        {
                            for (int i = 0; i < step.Previews.Count; i++)
                            {
                                var p = step.Previews[i];
                                await File.WriteAllBytesAsync(Path.Combine(previewDir, $"step-{step.Step:D3}-{i}{Extension(p.MimeType)}"), p.Data.ToByteArray(), cancellationToken);
                            }
                        }
                        break;
                    case GenerateUpdate.UpdateOneofCase.Result:
                        bar.Finish();
                        var result = update.Result;
                        for (int i = 0; i < result.Images.Count; i++)
                        {
                            string path = i == 0 ? output : Path.Combine(Path.GetDirectoryName(output) ?? "", $"{Path.GetFileNameWithoutExtension(output)}-{i}{Path.GetExtension(output)}");
                            await File.WriteAllBytesAsync(path, result.Images[i].Data.ToByteArray(), cancellationToken);
                            Console.WriteLine($"{path}: {result.Images[i].Width}x{result.Images[i].Height}, seed {result.Images[i].Seed}");
                        }
                        var r = result.Resolved;
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"model {r.Model}, {r.Steps} steps of {r.Scheduler.Kind}, guidance {r.GuidanceScale}, {result.ElapsedSeconds:0.00} s"));
                        break;
                }
            }
            return 0;
        }
        catch (RpcException ex)
        {
            bar.Finish();
            Console.Error.WriteLine($"error: {ex.StatusCode}: {ex.Status.Detail}");
            return 1;
        }
    }

    private static string Extension(string mime) => mime switch
    {
        "image/png" => ".png",
        "image/webp" => ".webp",
        _ => ".jpg",
    };

    private static SchedulerKind ParseScheduler(string value) =>
        Enum.TryParse<SchedulerKind>(value.Replace("_", "").Replace("-", "").Replace("+", "p"), ignoreCase: true, out var kind)
            ? kind
            : throw new ArgumentException($"Unknown scheduler '{value}' (LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M, LCM).");

    internal static (int Width, int Height) ParseSize(string value)
    {
        var parts = value.Split('x', 'X');
        int w = int.Parse(parts[0], CultureInfo.InvariantCulture);
        int h = parts.Length > 1 ? int.Parse(parts[1], CultureInfo.InvariantCulture) : w;
        return (w, h);
    }
}
