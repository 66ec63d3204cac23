using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Tokenization;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Pipeline;

/// <summary>Tokenizes prompts with the model's CLIP tokenizer and encodes them all in one text-encoder run.</summary>
public static class PromptEncoder
{
    /// <summary>Encodes <paramref name="prompts"/> with <paramref name="model"/>'s tokenizer and text encoder.</summary>
    public static PromptEmbeddings Encode(DiffusionModel model, IReadOnlyList<string> prompts, RunOptions? runOptions = null)
    {
        var tokenizer = model.Tokenizer;
        int length = tokenizer.MaxLength;
        var tokens = new TokenizedPrompt[prompts.Count];
        var ids = new long[prompts.Count * length];
        for (int i = 0; i < prompts.Count; i++)
        {
            tokens[i] = tokenizer.Encode(prompts[i]);
            tokens[i].InputIds.AsSpan().CopyTo(ids.AsSpan(i * length, length));
        }
        var (embeddings, hidden) = model.TextEncoder.Encode(ids, prompts.Count, length, runOptions);
        return new PromptEmbeddings(embeddings, prompts.Count, length, hidden, tokens);
    }
}

/// <summary>Text embeddings of a batch of prompts.</summary>
/// <param name="Values">Row-major <c>[Count, SequenceLength, HiddenSize]</c> float32.</param>
/// <param name="Count">Number of prompts.</param>
/// <param name="SequenceLength">Tokens per prompt (the tokenizer's max length).</param>
/// <param name="HiddenSize">Embedding size.</param>
/// <param name="Tokens">The token ids of each prompt.</param>
public sealed record PromptEmbeddings(float[] Values, int Count, int SequenceLength, int HiddenSize, IReadOnlyList<TokenizedPrompt> Tokens);
