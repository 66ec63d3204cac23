using System.Globalization;
using DiffusionGrpc.Benchmarks;

// dotnet run --project tests/DiffusionGrpc.Benchmarks -c Release -- pipeline [model] [steps] [runs] [size] [modelsRoot] [spinning: both|off|on]
//                                                                  schedulers
//                                                                  evaluate [default | distillation | model:scheduler:steps:guidance ...] [--models-path DIR] [--markdown PATH]
//                                                                  grid OUTPUT.png [distillation | model:scheduler:steps:guidance ...] [--models-path DIR]
string command = args.Length > 0 ? args[0] : "pipeline";
string Arg(int i, string fallback) => args.Length > i && args[i].Length > 0 ? args[i] : fallback;
int IntArg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;

switch (command)
{
    case "pipeline":
    {
        string model = Arg(1, "tiny-shapes");
        string root = Arg(5, Directory.Exists(Path.Combine(RepositoryPaths.Models, model)) ? RepositoryPaths.Models : RepositoryPaths.FixtureModels);
        return await PipelineBenchmark.RunAsync(root, model, IntArg(2, 20), IntArg(3, 5), IntArg(4, 64), Arg(6, "both"));
    }
    case "schedulers":
        return SchedulerBenchmark.Run();
    case "evaluate":
        return await DiffusionGrpc.Benchmarks.Evaluation.EvaluateCommand.RunAsync(args[1..]);
    case "grid":
        return await DiffusionGrpc.Benchmarks.Evaluation.GridCommand.RunAsync(args[1..]);
    default:
        Console.Error.WriteLine($"unknown command '{command}': pipeline | schedulers | evaluate | grid");
        return 2;
}
