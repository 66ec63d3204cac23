using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using DiffusionGrpc.Evaluation;

namespace DiffusionGrpc.Benchmarks.Evaluation;

/// <summary>
/// Options shared by <c>evaluate</c> and <c>grid</c>: configurations (or a preset) and
/// <c>--models-path</c>, <c>--teacher</c>, <c>--evaluation</c>, <c>--limit</c>; the rest stay for the command.
/// </summary>
internal sealed class EvaluationOptions
{
    /// <summary>The shipped default model, teacher of the distilled students.</summary>
    public const string DefaultTeacher = "tiny-shapes";

    /// <summary>The configurations, presets expanded, in order.</summary>
    public List<EvaluationConfiguration> Configurations { get; } = [];

    /// <summary>The models root the host serves.</summary>
    public string ModelsPath { get; private set; } = RepositoryPaths.Models;

    /// <summary>The folder of prompts.json and the classifier.</summary>
    public string EvaluationPath { get; private set; } = Path.Combine(RepositoryPaths.Models, "evaluation");

    /// <summary>The teacher model id of the presets.</summary>
    public string Teacher { get; private set; } = DefaultTeacher;

    /// <summary>Evaluate only the first N prompts (0 = all).</summary>
    public int Limit { get; private set; }

    /// <summary>Options this class does not know: name → value.</summary>
    public Dictionary<string, string> Extra { get; } = new(StringComparer.Ordinal);

    /// <summary>Positional arguments that are neither presets nor configurations (e.g. the grid's output path).</summary>
    public List<string> Positional { get; } = [];

    /// <summary>Parses <paramref name="args"/>; <paramref name="extraOptions"/> take a value each; <paramref name="isConfiguration"/> tells configurations from other positionals.</summary>
    public static EvaluationOptions Parse(IReadOnlyList<string> args, string defaultPreset, IReadOnlyCollection<string> extraOptions, Func<string, bool> isConfiguration)
    {
        var options = new EvaluationOptions();
        var presets = new List<string>();
        var configurations = new List<string>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"{arg} needs a value.");
                }
                string value = args[++i];
                switch (arg)
                {
                    case "--models-path": options.ModelsPath = Path.GetFullPath(value); break;
                    case "--evaluation": options.EvaluationPath = Path.GetFullPath(value); break;
                    case "--teacher": options.Teacher = value; break;
                    case "--limit": options.Limit = int.Parse(value, CultureInfo.InvariantCulture); break;
                    default:
                        if (!extraOptions.Contains(arg))
                        {
                            throw new ArgumentException($"Unknown option {arg}.");
                        }
                        options.Extra[arg] = value;
                        break;
                }
            }
            else if (arg is "default" or "distillation")
            {
                presets.Add(arg);
            }
            else if (isConfiguration(arg))
            {
                configurations.Add(arg);
            }
            else
            {
                options.Positional.Add(arg);
            }
        }
        if (presets.Count == 0 && configurations.Count == 0)
        {
            presets.Add(defaultPreset);
        }
        foreach (var preset in presets)
        {
            options.Configurations.AddRange(options.Preset(preset));
        }
        options.Configurations.AddRange(configurations.Select(EvaluationConfiguration.Parse));
        return options;
    }

    /// <summary>
    /// <c>default</c>: the teacher with its default scheduler and guidance at 50, 20, 8 and 4 steps.
    /// <c>distillation</c>: the teacher with DDIM at 50, 8, 4, 2 and 1 steps (its default guidance), then every
    /// <c>{teacher}-N-step</c> student under the models root at its own defaults, most steps first.
    /// </summary>
    public IEnumerable<EvaluationConfiguration> Preset(string name)
    {
        switch (name)
        {
            case "default":
                return new[] { 50, 20, 8, 4 }.Select(steps => new EvaluationConfiguration(Teacher, Steps: steps));
            case "distillation":
                var student = new Regex("^" + Regex.Escape(Teacher) + @"-(\d+)-step$", RegexOptions.CultureInvariant);
                var students = Directory.Exists(ModelsPath)
                    ? Directory.EnumerateDirectories(ModelsPath)
                        .Select(Path.GetFileName)
                        .Select(id => (Id: id!, Match: student.Match(id!)))
                        .Where(s => s.Match.Success && File.Exists(Path.Combine(ModelsPath, s.Id, "model_index.json")))
                        .OrderByDescending(s => int.Parse(s.Match.Groups[1].Value, CultureInfo.InvariantCulture))
                        .Select(s => new EvaluationConfiguration(s.Id))
                    : [];
                return new[] { 50, 8, 4, 2, 1 }.Select(steps => new EvaluationConfiguration(Teacher, Contracts.V1.SchedulerKind.Ddim, steps))
                    .Concat(students).ToList();
            default:
                throw new ArgumentException($"Unknown preset '{name}'.");
        }
    }

    /// <summary>The evaluation set, cut to <see cref="Limit"/> prompts.</summary>
    public IReadOnlyList<EvaluationCase> LoadCases(out EvaluationSet set)
    {
        set = EvaluationSet.Load(Path.Combine(EvaluationPath, EvaluationSet.FileName));
        var prompts = Limit > 0 ? set.Prompts.Take(Limit).ToHashSet() : set.Prompts.ToHashSet();
        return set.Cases.Where(c => prompts.Contains(c.Prompt)).ToList();
    }

    /// <summary>Fails early, naming them, when configurations name models that are not under the models root.</summary>
    public void CheckModelsExist()
    {
        var missing = Configurations.Select(c => c.Model).Where(m => m.Length > 0 && !File.Exists(Path.Combine(ModelsPath, m, "model_index.json"))).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new ArgumentException($"No model {string.Join(", ", missing)} under {ModelsPath} (use --models-path, --teacher or name configurations model:scheduler:steps:guidance).");
        }
    }
}

/// <summary>
/// <c>evaluate</c>: prompt adherence through the service. Every prompt × seed of <c>models/evaluation/prompts.json</c>
/// is generated by Generation.Generate over gRPC (in-process host on loopback; PNG, no previews, one call at a
/// time), classified by the attribute classifier, and scored per attribute; one table row per configuration
/// with the mean wall time of Generate per image.
/// </summary>
internal static class EvaluateCommand
{
    private const string Usage =
        "evaluate [default | distillation | model:scheduler:steps:guidance ...] [--models-path DIR] [--markdown PATH] [--teacher ID] [--evaluation DIR] [--limit N] [--warm-up N]";

    /// <summary>Runs the command; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        EvaluationOptions options;
        try
        {
            options = EvaluationOptions.Parse(args, "default", ["--markdown", "--warm-up"], _ => true);
            options.CheckModelsExist();
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        int warmUp = options.Extra.TryGetValue("--warm-up", out var w) ? int.Parse(w, CultureInfo.InvariantCulture) : 1;
        var cases = options.LoadCases(out var set);
        using var classifier = AttributeClassifier.Load(options.EvaluationPath);
        var inv = CultureInfo.InvariantCulture;
        int promptCount = cases.Select(c => c.Prompt).Distinct().Count();
        string setDescription = string.Create(inv, $"{promptCount} prompts × {set.Seeds.Count} seeds = {cases.Count} images per row");
        Console.WriteLine($"models {options.ModelsPath}; {setDescription}; {Environment.ProcessorCount} cores");

        var results = new List<AdherenceResult>();
        await using (var host = await BenchmarkHost.StartAsync(options.ModelsPath))
        {
            var evaluation = new AdherenceEvaluation(host.Client.Generation, classifier);
            foreach (var configuration in options.Configurations)
            {
                var result = await evaluation.RunAsync(configuration, cases, warmUp, new ConsoleProgress(configuration, cases.Count));
                Console.Error.WriteLine();
                results.Add(result);
            }
        }
        var attributes = classifier.Attributes.Select(a => a.Name).ToList();
        Console.WriteLine(FormatTable(results, attributes));
        if (options.Extra.TryGetValue("--markdown", out var markdownPath))
        {
            string command = "dotnet run --project tests/DiffusionGrpc.Benchmarks -c Release -- evaluate " + string.Join(' ', args.Where((a, i) => a != "--markdown" && (i == 0 || args[i - 1] != "--markdown")).Select(Quote));
            string sizes = string.Join(", ", results.Select(r => $"{r.Resolved.Width}×{r.Resolved.Height}").Distinct());
            var markdown = new StringBuilder(FormatMarkdown(results, attributes))
                .AppendLine()
                .AppendLine(string.Create(inv,
                    $"Adherence = share of images in which the attribute classifier sees what the prompt asks for; {setDescription}. Time per image = mean wall time of one `Generate` call ({sizes} PNG, no previews) through gRPC on loopback, one call at a time, {Environment.ProcessorCount} CPU cores. `{command}`"));
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(markdownPath))!);
            await File.WriteAllTextAsync(markdownPath, markdown.ToString());
            Console.WriteLine($"wrote {markdownPath}");
        }
        return 0;
    }

    /// <summary>Shows "configuration: done/total" on stderr, synchronously.</summary>
    private sealed class ConsoleProgress(EvaluationConfiguration configuration, int total) : IProgress<int>
    {
        public void Report(int value)
        {
            if (value % 10 == 0 || value == total)
            {
                Console.Error.Write($"\r{configuration}: {value}/{total}   ");
            }
        }
    }

    private static string Quote(string arg) => arg.Contains(' ', StringComparison.Ordinal) ? $"\"{arg}\"" : arg;

    /// <summary>The columns of a result row: model, scheduler, steps, guidance, one per attribute, seconds per image.</summary>
    private static string[] Cells(AdherenceResult result, IReadOnlyList<string> attributes)
    {
        var inv = CultureInfo.InvariantCulture;
        var resolved = result.Resolved;
        float guidance = resolved.GuidanceScale ?? float.NaN;
        var cells = new List<string>
        {
            resolved.Model,
            EvaluationConfiguration.SchedulerName(resolved.Scheduler?.Kind ?? result.Configuration.Scheduler),
            resolved.Steps.ToString(inv),
            guidance <= 1 ? "none" : guidance.ToString("0.##", inv),
        };
        cells.AddRange(attributes.Select(a => result.Score.Percent(a).ToString("0.0", inv) + "%"));
        cells.Add(result.MeanSecondsPerImage.ToString("0.000", inv));
        return cells.ToArray();
    }

    private static string[] Header(IReadOnlyList<string> attributes) =>
        ["model", "scheduler", "steps", "guidance", .. attributes, "s / image"];

    /// <summary>The results as an aligned text table.</summary>
    public static string FormatTable(IReadOnlyList<AdherenceResult> results, IReadOnlyList<string> attributes)
    {
        var rows = new List<string[]> { Header(attributes) };
        rows.AddRange(results.Select(r => Cells(r, attributes)));
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                text.Append(c < 2 ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c])).Append(c + 1 < row.Length ? "  " : "");
            }
            text.AppendLine();
        }
        return text.ToString();
    }

    /// <summary>The results as a Markdown table.</summary>
    public static string FormatMarkdown(IReadOnlyList<AdherenceResult> results, IReadOnlyList<string> attributes)
    {
        var header = Header(attributes);
        var text = new StringBuilder();
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("|" + string.Join("|", header.Select((_, c) => c < 2 ? "---" : "---:")) + "|");
        foreach (var result in results)
        {
            text.AppendLine("| " + string.Join(" | ", Cells(result, attributes)) + " |");
        }
        return text.ToString();
    }
}
