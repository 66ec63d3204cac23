using System.Text.Json;
using DiffusionGrpc.Core.Tokenization;

namespace DiffusionGrpc.Core.Tests.Tokenization;

/// <summary>Loads the shared CLIP vocabulary once (../shared/tokenizers/clip next to the repository root).</summary>
public sealed class SharedClipTokenizerFixture
{
    public SharedClipTokenizerFixture()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "DiffusionGrpc.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }
        if (dir is null)
        {
            throw new InvalidOperationException("DiffusionGrpc.sln not found above " + AppContext.BaseDirectory);
        }
        Directory = Path.GetFullPath(Path.Combine(dir, "..", "shared", "tokenizers", "clip"));
        Tokenizer = ClipTokenizer.Load(Directory);
    }

    public string Directory { get; }

    public ClipTokenizer Tokenizer { get; }
}

/// <summary>Compares <see cref="ClipTokenizer"/> with OpenAI's simple_tokenizer (TestData/tokenizer/make_tokenizer_references.py).</summary>
public sealed class ClipTokenizerTests(SharedClipTokenizerFixture fixture) : IClassFixture<SharedClipTokenizerFixture>
{
    private static IEnumerable<(string Prompt, long[] Ids, bool Truncated)> References()
    {
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(
            Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer", "tokenizer_references.json")));
        var list = new List<(string, long[], bool)>();
        foreach (JsonElement c in doc.RootElement.GetProperty("cases").EnumerateArray())
        {
            list.Add((c.GetProperty("prompt").GetString()!,
                c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt64()).ToArray(),
                c.GetProperty("truncated").GetBoolean()));
        }
        return list;
    }

    [Fact]
    public void MatchesOpenAiForEveryReferencePrompt()
    {
        var failures = new List<string>();
        int count = 0;
        foreach ((string prompt, long[] ids, bool truncated) in References())
        {
            count++;
            TokenizedPrompt actual = fixture.Tokenizer.Encode(prompt);
            if (!actual.InputIds.SequenceEqual(ids) || actual.Truncated != truncated)
            {
                failures.Add($"{JsonSerializer.Serialize(prompt)}\n  expected {string.Join(' ', ids.Where(i => i != 49407))} {truncated}"
                    + $"\n  actual   {string.Join(' ', actual.InputIds.Where(i => i != 49407))} {actual.Truncated}");
            }
        }
        Assert.True(count >= 300, $"only {count} prompts");
        Assert.True(failures.Count == 0, $"{failures.Count}/{count} differ:\n" + string.Join('\n', failures));
    }

    [Fact]
    public void KnownPromptAndProperties()
    {
        ClipTokenizer t = fixture.Tokenizer;
        Assert.Equal(77, t.MaxLength);
        Assert.Equal(49406, t.BosId);
        Assert.Equal(49407, t.EosId);
        Assert.Equal(49407, t.PadId);
        Assert.Equal(49408, t.VocabularySize);
        long[] expected = [49406, 320, 8853, 539, 550, 18376, 6765, 320, 4558, 49407];
        TokenizedPrompt p = t.Encode("a photograph of an astronaut riding a horse");
        Assert.Equal(expected, p.InputIds[..10]);
        Assert.All(p.InputIds[10..], id => Assert.Equal(49407, id));
        Assert.False(p.Truncated);
    }

    [Fact]
    public void TruncationKeepsMaxLengthMinusTwoTokensThenEos()
    {
        TokenizedPrompt p = fixture.Tokenizer.Encode(string.Concat(Enumerable.Repeat("cat ", 200)));
        Assert.True(p.Truncated);
        Assert.Equal(77, p.InputIds.Length);
        Assert.Equal(49406, p.InputIds[0]);
        Assert.Equal(49407, p.InputIds[76]);
        Assert.All(p.InputIds[1..76], id => Assert.NotEqual(49407, id));
        Assert.False(fixture.Tokenizer.Encode(string.Concat(Enumerable.Repeat("cat ", 75))).Truncated);
        Assert.True(fixture.Tokenizer.Encode(string.Concat(Enumerable.Repeat("cat ", 76))).Truncated);
    }

    [Fact]
    public void ConcurrentEncodesAgreeWithSequentialOnes()
    {
        var cases = References().ToArray();
        var results = new long[cases.Length][];
        Parallel.For(0, cases.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 8 }, k =>
        {
            int i = k % cases.Length;
            long[] ids = fixture.Tokenizer.Encode(cases[i].Prompt).InputIds;
            if (Interlocked.CompareExchange(ref results[i], ids, null) is { } previous)
            {
                Assert.Equal(previous, ids);
            }
        });
        for (int i = 0; i < cases.Length; i++)
        {
            Assert.Equal(fixture.Tokenizer.Encode(cases[i].Prompt).InputIds, results[i]);
        }
    }
}

/// <summary>Pad-token, special-token and max-length rules of <see cref="ClipTokenizer.Load"/> on a tiny folder.</summary>
public sealed class ClipTokenizerConfigTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "cliptok-" + Guid.NewGuid().ToString("N"));

    public ClipTokenizerConfigTests()
    {
        Directory.CreateDirectory(_dir);
        // Byte-level symbols for a, b, !; "ab</w>" merged; special tokens at the end.
        var vocab = new Dictionary<string, int>
        {
            ["!"] = 0, ["a"] = 1, ["b"] = 2, ["a</w>"] = 3, ["b</w>"] = 4, ["!</w>"] = 5, ["ab</w>"] = 6,
            ["<|startoftext|>"] = 7, ["<|endoftext|>"] = 8, ["<pad>"] = 9,
        };
        File.WriteAllText(Path.Combine(_dir, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllText(Path.Combine(_dir, "merges.txt"), "#version: 0.2\na b</w>\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private void Write(string name, string json) => File.WriteAllText(Path.Combine(_dir, name), json);

    [Fact]
    public void NoConfigPadsWithEosAndDefaultsTo77()
    {
        ClipTokenizer t = ClipTokenizer.Load(_dir);
        Assert.Equal((77, 7, 8, 8, 10), (t.MaxLength, t.BosId, t.EosId, t.PadId, t.VocabularySize));
        TokenizedPrompt p = t.Encode("AB a!");
        Assert.Equal(new long[] { 7, 6, 3, 5, 8, 8 }, p.InputIds[..6]);
    }

    [Fact]
    public void PadTokenStringFromTokenizerConfigLikeSd2()
    {
        Write("tokenizer_config.json", """{"model_max_length": 8, "pad_token": "!"}""");
        Write("special_tokens_map.json", """{"pad_token": "<pad>"}""");
        ClipTokenizer t = ClipTokenizer.Load(_dir);
        Assert.Equal(0, t.PadId);
        Assert.Equal(8, t.MaxLength);
        Assert.Equal(new long[] { 7, 6, 8, 0, 0, 0, 0, 0 }, t.Encode("ab").InputIds);
    }

    [Fact]
    public void PadTokenContentObjectFromSpecialTokensMap()
    {
        Write("tokenizer_config.json", """{"model_max_length": 6, "bos_token": {"content": "<|startoftext|>", "lstrip": false}}""");
        Write("special_tokens_map.json", """{"pad_token": {"content": "<pad>", "normalized": true}, "eos_token": "<|endoftext|>"}""");
        ClipTokenizer t = ClipTokenizer.Load(_dir);
        Assert.Equal(9, t.PadId);
        TokenizedPrompt p = t.Encode("ab ab ab ab ab");
        Assert.True(p.Truncated);
        Assert.Equal(new long[] { 7, 6, 6, 6, 6, 8 }, p.InputIds);
    }

    [Fact]
    public void UnknownPadTokenIsRejected()
    {
        Write("tokenizer_config.json", """{"pad_token": "<nope>"}""");
        Assert.Throws<InvalidDataException>(() => ClipTokenizer.Load(_dir));
    }

    [Fact]
    public void HugeModelMaxLengthFallsBackTo77()
    {
        Write("tokenizer_config.json", """{"model_max_length": 1e30}""");
        Assert.Equal(77, ClipTokenizer.Load(_dir).MaxLength);
    }
}
