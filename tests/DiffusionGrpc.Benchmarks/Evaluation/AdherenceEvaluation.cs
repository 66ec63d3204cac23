using System.Diagnostics;
using System.Globalization;
using DiffusionGrpc.Contracts.V1;
using Google.Protobuf.Reflection;
using Grpc.Core;

namespace DiffusionGrpc.Evaluation;

/// <summary>
/// A configuration to evaluate, written <c>model:scheduler:steps:guidance</c>: an empty model, scheduler
/// (or <c>DEFAULT</c>), 0 / empty steps and 0 / empty guidance leave the model's default.
/// </summary>
/// <param name="Model">Model id; empty = the server's default model.</param>
/// <param name="Scheduler">Scheduler; unspecified = the model's.</param>
/// <param name="Steps">Steps; 0 = the model's.</param>
/// <param name="Guidance">Guidance scale; null = the model's (≤ 1 = no guidance).</param>
internal sealed record EvaluationConfiguration(string Model, SchedulerKind Scheduler = SchedulerKind.Unspecified, int Steps = 0, float? Guidance = null)
{
    private static readonly EnumDescriptor SchedulerKinds = CommonReflection.Descriptor.FindTypeByName<EnumDescriptor>("SchedulerKind");

    /// <summary>Parses <c>model:scheduler:steps:guidance</c>; trailing parts may be left out.</summary>
    /// <exception cref="FormatException">A part is not valid.</exception>
    public static EvaluationConfiguration Parse(string text)
    {
        var parts = text.Split(':');
        if (parts.Length > 4)
        {
            throw new FormatException($"'{text}': expected model:scheduler:steps:guidance.");
        }
        string Part(int i) => i < parts.Length ? parts[i].Trim() : "";
        var scheduler = ParseScheduler(Part(1));
        int steps = Part(2).Length == 0 ? 0 : int.Parse(Part(2), NumberStyles.Integer, CultureInfo.InvariantCulture);
        float? guidance = Part(3).Length == 0 ? null : float.Parse(Part(3), NumberStyles.Float, CultureInfo.InvariantCulture);
        return new EvaluationConfiguration(Part(0), scheduler, steps, guidance is 0 ? null : guidance);
    }

    /// <summary>Parses a scheduler name as the proto enum spells it (<c>EULER_ANCESTRAL</c>, <c>DDIM</c>); empty or <c>DEFAULT</c> = unspecified.</summary>
    /// <exception cref="FormatException">Not a scheduler name.</exception>
    public static SchedulerKind ParseScheduler(string name)
    {
        if (name.Length == 0 || name.Equals("default", StringComparison.OrdinalIgnoreCase))
        {
            return SchedulerKind.Unspecified;
        }
        var value = SchedulerKinds.FindValueByName(name.ToUpperInvariant())
            ?? throw new FormatException($"Unknown scheduler '{name}': one of {string.Join(", ", SchedulerKinds.Values.Skip(1).Select(v => v.Name))}.");
        return (SchedulerKind)value.Number;
    }

    /// <summary>The proto enum name of <paramref name="kind"/> (<c>DPMPP_2M</c>).</summary>
    public static string SchedulerName(SchedulerKind kind) => SchedulerKinds.FindValueByNumber((int)kind)?.Name ?? kind.ToString();

    /// <summary>A Generate request for one image of this configuration: PNG, no previews.</summary>
    public GenerateRequest ToRequest(string prompt, ulong seed)
    {
        var request = new GenerateRequest
        {
            Model = Model,
            Prompt = prompt,
            Seed = seed,
            Steps = Steps,
            NumImages = 1,
            OutputFormat = ImageFormat.Png,
            Preview = new PreviewOptions { Kind = PreviewKind.None },
        };
        if (Scheduler != SchedulerKind.Unspecified)
        {
            request.Scheduler = new SchedulerOptions { Kind = Scheduler };
        }
        if (Guidance is { } guidance)
        {
            request.GuidanceScale = guidance;
        }
        return request;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Model}:{(Scheduler == SchedulerKind.Unspecified ? "" : SchedulerName(Scheduler))}:{(Steps == 0 ? "" : Steps)}:{Guidance}");
}

/// <summary>How many images showed each attribute their prompt asked for.</summary>
internal sealed class AdherenceScore
{
    private readonly int[] _correct;

    /// <summary>Counts the matches of <paramref name="predictions"/> (one per case, in order) against the cases' prompts.</summary>
    /// <param name="attributes">The attributes to score, in report order.</param>
    /// <param name="cases">What each image was asked to show.</param>
    /// <param name="predictions">What the classifier saw, attribute → class.</param>
    public AdherenceScore(IReadOnlyList<string> attributes, IReadOnlyList<EvaluationCase> cases, IReadOnlyList<IReadOnlyDictionary<string, string>> predictions)
    {
        if (cases.Count != predictions.Count)
        {
            throw new ArgumentException($"{cases.Count} cases but {predictions.Count} predictions.", nameof(predictions));
        }
        Attributes = attributes;
        _correct = new int[attributes.Count];
        var totals = new int[attributes.Count];
        for (int i = 0; i < cases.Count; i++)
        {
            for (int a = 0; a < attributes.Count; a++)
            {
                if (cases[i].Prompt.Attributes.TryGetValue(attributes[a], out var wanted))
                {
                    totals[a]++;
                    if (predictions[i].TryGetValue(attributes[a], out var seen) && seen == wanted)
                    {
                        _correct[a]++;
                    }
                }
            }
        }
        Totals = totals;
    }

    /// <summary>The attributes scored, in report order.</summary>
    public IReadOnlyList<string> Attributes { get; }

    /// <summary>Per attribute, how many images the prompts constrained.</summary>
    public IReadOnlyList<int> Totals { get; }

    /// <summary>Images whose prompts named <paramref name="attribute"/>.</summary>
    public int Total(string attribute) => Totals[IndexOf(attribute)];

    /// <summary>Images whose <paramref name="attribute"/> matched the prompt.</summary>
    public int Correct(string attribute) => _correct[IndexOf(attribute)];

    /// <summary>Matches of <paramref name="attribute"/> as a percentage of the images its prompts constrained (NaN when none).</summary>
    public double Percent(string attribute)
    {
        int a = IndexOf(attribute);
        return Totals[a] == 0 ? double.NaN : 100.0 * _correct[a] / Totals[a];
    }

    private int IndexOf(string attribute)
    {
        for (int a = 0; a < Attributes.Count; a++)
        {
            if (Attributes[a] == attribute)
            {
                return a;
            }
        }
        throw new ArgumentException($"'{attribute}' is not scored (scored: {string.Join(", ", Attributes)}).", nameof(attribute));
    }
}

/// <summary>One generated image, as the service returned it.</summary>
/// <param name="Png">The encoded image.</param>
/// <param name="Resolved">The request with every default filled in by the server.</param>
/// <param name="Seconds">Wall time of the Generate call, from sending the request to the result.</param>
internal sealed record GeneratedImage(byte[] Png, GenerateRequest Resolved, double Seconds);

/// <summary>The evaluation of one configuration.</summary>
/// <param name="Configuration">What was asked for.</param>
/// <param name="Resolved">The server's resolution of the first request (model id, scheduler, steps, guidance).</param>
/// <param name="Score">Adherence per attribute.</param>
/// <param name="Images">The images, one per case, in case order.</param>
/// <param name="Predictions">What the classifier saw in each image (attribute → class), in case order.</param>
/// <param name="MeanSecondsPerImage">Mean wall time of Generate per image (warm-up excluded).</param>
internal sealed record AdherenceResult(EvaluationConfiguration Configuration, GenerateRequest Resolved, AdherenceScore Score,
    IReadOnlyList<GeneratedImage> Images, IReadOnlyList<IReadOnlyDictionary<string, string>> Predictions, double MeanSecondsPerImage);

/// <summary>
/// Prompt adherence measured through the service: every case is generated by <c>Generation.Generate</c>
/// (one image per call, PNG, no previews, one call at a time), then classified by the
/// <see cref="AttributeClassifier"/>; an attribute counts when the class seen is the class the prompt named.
/// </summary>
/// <param name="generation">A client of the Generation service.</param>
/// <param name="classifier">The attribute classifier.</param>
internal sealed class AdherenceEvaluation(Generation.GenerationClient generation, AttributeClassifier classifier)
{
    /// <summary>Generates one image of <paramref name="configuration"/> through <paramref name="generation"/> and times the call.</summary>
    public static async Task<GeneratedImage> GenerateAsync(Generation.GenerationClient generation, EvaluationConfiguration configuration, string prompt, ulong seed, CancellationToken cancellationToken = default)
    {
        var request = configuration.ToRequest(prompt, seed);
        var clock = Stopwatch.StartNew();
        using var call = generation.Generate(request, cancellationToken: cancellationToken);
        await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (update.Result is { } result)
            {
                double seconds = clock.Elapsed.TotalSeconds;
                if (result.Images.Count != 1)
                {
                    throw new InvalidOperationException($"Expected one image, got {result.Images.Count}.");
                }
                return new GeneratedImage(result.Images[0].Data.ToByteArray(), result.Resolved, seconds);
            }
        }
        throw new InvalidOperationException($"Generate ended without a result for '{prompt}'.");
    }

    /// <summary>
    /// Evaluates <paramref name="configuration"/> over <paramref name="cases"/>, after <paramref name="warmUp"/>
    /// untimed generations of the first case.
    /// </summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="cases">The prompts and seeds; at least one.</param>
    /// <param name="warmUp">Untimed generations first (session warm-up, JIT).</param>
    /// <param name="progress">Receives the number of images done after each one.</param>
    /// <param name="cancellationToken">Stops the run.</param>
    public async Task<AdherenceResult> RunAsync(EvaluationConfiguration configuration, IReadOnlyList<EvaluationCase> cases, int warmUp = 1,
        IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfZero(cases.Count);
        for (int i = 0; i < warmUp; i++)
        {
            await GenerateAsync(generation, configuration, cases[0].Prompt.Prompt, cases[0].Seed, cancellationToken).ConfigureAwait(false);
        }
        var images = new List<GeneratedImage>(cases.Count);
        foreach (var item in cases)
        {
            images.Add(await GenerateAsync(generation, configuration, item.Prompt.Prompt, item.Seed, cancellationToken).ConfigureAwait(false));
            progress?.Report(images.Count);
        }
        var predictions = classifier.Classify(images.Select(i => i.Png).ToList());
        var score = new AdherenceScore(classifier.Attributes.Select(a => a.Name).ToList(), cases, predictions);
        return new AdherenceResult(configuration, images[0].Resolved, score, images, predictions, images.Average(i => i.Seconds));
    }
}
