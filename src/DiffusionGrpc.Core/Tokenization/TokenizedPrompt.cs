namespace DiffusionGrpc.Core.Tokenization;

/// <summary>A prompt's CLIP input ids: BOS, tokens, EOS, padded to the tokenizer's maximum length.</summary>
/// <param name="InputIds">Exactly <see cref="ClipTokenizer.MaxLength"/> ids.</param>
/// <param name="Truncated">Whether the prompt had more than <c>MaxLength - 2</c> tokens and was cut.</param>
public sealed record TokenizedPrompt(long[] InputIds, bool Truncated);
