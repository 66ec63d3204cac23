using System.CommandLine;
using DiffusionGrpc.Client;

namespace DiffusionGrpc.Cli;

/// <summary><c>diffusion models</c>: lists the served models and their defaults.</summary>
internal static class ModelsCommand
{
    public static Command Create(Option<string?> address, Option<string[]> hostOptions)
    {
        var command = new Command("models", "List the models and their defaults.");
        command.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(address);
            await using var server = target is null ? await InProcessServer.StartAsync(parse.GetValue(hostOptions) ?? [], cancellationToken) : null;
            using var client = DiffusionClient.Connect(target ?? server!.Address);
            foreach (var m in await client.ListModelsAsync(cancellationToken))
            {
                Console.WriteLine($"{m.Id}\t{m.DefaultWidth}x{m.DefaultHeight}\t{m.DefaultSteps} steps\t{m.DefaultScheduler} ({m.SchedulerClass})\tguidance {m.DefaultGuidanceScale}");
            }
            return 0;
        });
        return command;
    }
}
