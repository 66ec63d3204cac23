using System.Text.Json;

namespace DiffusionGrpc.Evaluation;

/// <summary>One prompt of the evaluation set and the attribute values it asks for (e.g. shape = circle).</summary>
/// <param name="Prompt">The caption sent to the service.</param>
/// <param name="Attributes">Attribute name → the class the prompt names.</param>
internal sealed record EvaluationPrompt(string Prompt, IReadOnlyDictionary<string, string> Attributes);

/// <summary>One image to generate: a prompt with a seed.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Seed">The request's seed.</param>
internal sealed record EvaluationCase(EvaluationPrompt Prompt, ulong Seed);

/// <summary>
/// The fixed prompt-adherence set, <c>models/evaluation/prompts.json</c> (written by
/// <c>models/tools/make_evaluation_set.py</c>): seeds, the classes of every attribute, and prompts with
/// the attribute values they name.
/// </summary>
internal sealed class EvaluationSet
{
    /// <summary>The file name of the set in the evaluation folder.</summary>
    public const string FileName = "prompts.json";

    private EvaluationSet(IReadOnlyList<ulong> seeds, IReadOnlyList<EvaluationPrompt> prompts)
    {
        Seeds = seeds;
        Prompts = prompts;
    }

    /// <summary>The seeds every prompt is generated with.</summary>
    public IReadOnlyList<ulong> Seeds { get; }

    /// <summary>The prompts, in file order.</summary>
    public IReadOnlyList<EvaluationPrompt> Prompts { get; }

    /// <summary>Every prompt with every seed, prompt by prompt.</summary>
    public IReadOnlyList<EvaluationCase> Cases => Prompts.SelectMany(p => Seeds.Select(s => new EvaluationCase(p, s))).ToList();

    /// <summary>Reads a set from <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file lacks <c>seeds</c> or <c>prompts</c>.</exception>
    public static EvaluationSet Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = document.RootElement;
        if (!root.TryGetProperty("seeds", out var seedsElement) || !root.TryGetProperty("prompts", out var promptsElement))
        {
            throw new InvalidDataException($"{path}: expected 'seeds' and 'prompts'.");
        }
        var seeds = seedsElement.EnumerateArray().Select(e => e.GetUInt64()).ToList();
        var prompts = new List<EvaluationPrompt>();
        foreach (var entry in promptsElement.EnumerateArray())
        {
            string prompt = entry.GetProperty("prompt").GetString() ?? "";
            var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in entry.EnumerateObject())
            {
                if (property.Name != "prompt" && property.Value.ValueKind == JsonValueKind.String)
                {
                    attributes[property.Name] = property.Value.GetString()!;
                }
            }
            prompts.Add(new EvaluationPrompt(prompt, attributes));
        }
        return new EvaluationSet(seeds, prompts);
    }
}
