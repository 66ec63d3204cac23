using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace DiffusionGrpc.Core.Tokenization;

/// <summary>
/// OpenAI's CLIP tokenizer (without ftfy) over a Hugging Face tokenizer folder, built on Microsoft.ML.Tokenizers'
/// byte-level <see cref="BpeTokenizer"/>. <see cref="Encode"/> wraps prompts as Stable Diffusion does: BOS, the
/// first <c>MaxLength - 2</c> tokens, EOS, padded with <see cref="PadId"/>. Immutable and thread-safe.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>The maximum length used when the folder does not give <c>model_max_length</c>.</summary>
    public const int DefaultMaxLength = 77;

    private const string DefaultBos = "<|startoftext|>";
    private const string DefaultEos = "<|endoftext|>";
    private const string Pattern =
        @"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+";

    private readonly BpeTokenizer _bpe;

    private ClipTokenizer(BpeTokenizer bpe, int maxLength, int bosId, int eosId, int padId, int vocabularySize)
    {
        _bpe = bpe;
        MaxLength = maxLength;
        BosId = bosId;
        EosId = eosId;
        PadId = padId;
        VocabularySize = vocabularySize;
    }

    /// <summary>Length of every <see cref="TokenizedPrompt.InputIds"/> (<c>model_max_length</c>, 77 by default).</summary>
    public int MaxLength { get; }

    /// <summary>Id of the beginning-of-text token.</summary>
    public int BosId { get; }

    /// <summary>Id of the end-of-text token.</summary>
    public int EosId { get; }

    /// <summary>Id that fills the ids after EOS (the folder's pad token, else EOS).</summary>
    public int PadId { get; }

    /// <summary>Number of entries of <c>vocab.json</c>.</summary>
    public int VocabularySize { get; }

    /// <summary>
    /// Loads <c>vocab.json</c>, <c>merges.txt</c> and, when present, <c>tokenizer_config.json</c> and
    /// <c>special_tokens_map.json</c> from a folder. Takes a few tenths of a second: load once per model.
    /// </summary>
    /// <param name="tokenizerDirectory">The folder (a model's <c>tokenizer/</c>).</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="FileNotFoundException">The vocabulary or merges file is missing.</exception>
    /// <exception cref="InvalidDataException">A special token is not in the vocabulary, or a file is malformed.</exception>
    public static ClipTokenizer Load(string tokenizerDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerDirectory);
        string vocabPath = Path.Combine(tokenizerDirectory, "vocab.json");
        string mergesPath = Path.Combine(tokenizerDirectory, "merges.txt");
        var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(vocabPath))
            ?? throw new InvalidDataException($"{vocabPath} is not a JSON object.");
        var merges = new List<string>();
        bool first = true;
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (first && line.StartsWith("#version", StringComparison.Ordinal))
            {
                first = false;
                continue;
            }
            first = false;
            if (line.Trim().Length > 0)
            {
                merges.Add(line);
            }
        }

        JsonElement? config = ReadJson(Path.Combine(tokenizerDirectory, "tokenizer_config.json"));
        JsonElement? map = ReadJson(Path.Combine(tokenizerDirectory, "special_tokens_map.json"));
        string bos = TokenOf(config, map, "bos_token") ?? DefaultBos;
        string eos = TokenOf(config, map, "eos_token") ?? DefaultEos;
        string pad = TokenOf(config, map, "pad_token") ?? eos;
        int maxLength = DefaultMaxLength;
        if (config is { } c && c.TryGetProperty("model_max_length", out JsonElement m) && m.ValueKind == JsonValueKind.Number
            && m.TryGetDouble(out double max) && max >= 2 && max <= 1_000_000)
        {
            maxLength = (int)max;
        }

        int IdOf(string token, string role) => vocab.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"The {role} token '{token}' is not in {vocabPath}.");
        int bosId = IdOf(bos, "BOS");
        int eosId = IdOf(eos, "EOS");
        int padId = IdOf(pad, "pad");

        var special = new Dictionary<string, int>(StringComparer.Ordinal) { [bos] = bosId, [eos] = eosId };
        foreach (string token in new[] { DefaultBos, DefaultEos })
        {
            if (vocab.TryGetValue(token, out int id))
            {
                special[token] = id;
            }
        }
        var options = new BpeOptions(vocab)
        {
            Merges = merges,
            SpecialTokens = special,
            ByteLevel = true,
            EndOfWordSuffix = "</w>",
            Normalizer = ClipTextNormalizer.Instance,
            PreTokenizer = new RegexPreTokenizer(
                new Regex(Pattern, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled), special),
        };
        return new ClipTokenizer(BpeTokenizer.Create(options), maxLength, bosId, eosId, padId, vocab.Count);
    }

    /// <summary>Tokenizes a prompt: BOS, its tokens (the first <c>MaxLength - 2</c>), EOS, then pad ids.</summary>
    /// <param name="prompt">The prompt; null is treated as empty.</param>
    /// <returns>The ids and whether tokens were dropped.</returns>
    public TokenizedPrompt Encode(string? prompt)
    {
        IReadOnlyList<int> tokens = _bpe.EncodeToIds(prompt ?? string.Empty);
        int keep = Math.Min(tokens.Count, MaxLength - 2);
        var ids = new long[MaxLength];
        ids[0] = BosId;
        for (int i = 0; i < keep; i++)
        {
            ids[i + 1] = tokens[i];
        }
        ids[keep + 1] = EosId;
        for (int i = keep + 2; i < MaxLength; i++)
        {
            ids[i] = PadId;
        }
        return new TokenizedPrompt(ids, tokens.Count > keep);
    }

    /// <summary>The prompt's token ids without BOS, EOS, truncation or padding.</summary>
    /// <param name="prompt">The prompt.</param>
    /// <returns>The ids.</returns>
    public IReadOnlyList<int> EncodeTokens(string prompt) => _bpe.EncodeToIds(prompt ?? string.Empty);

    private static JsonElement? ReadJson(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path} is not valid JSON: {e.Message}", e);
        }
    }

    /// <summary>A special token from tokenizer_config.json, else special_tokens_map.json: a string or {"content": ...}.</summary>
    private static string? TokenOf(JsonElement? config, JsonElement? map, string key)
    {
        foreach (JsonElement? source in new[] { config, map })
        {
            if (source is { ValueKind: JsonValueKind.Object } s && s.TryGetProperty(key, out JsonElement v))
            {
                if (v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } str)
                {
                    return str;
                }
                if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("content", out JsonElement content)
                    && content.ValueKind == JsonValueKind.String && content.GetString() is { Length: > 0 } str2)
                {
                    return str2;
                }
            }
        }
        return null;
    }
}
