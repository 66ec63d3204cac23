using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Pipeline;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Validation;
using DiffusionGrpc.Server.Wire;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Server.Stages;

/// <summary>The text encoder in this process: CLIP tokenization and one text-encoder run for all prompts.</summary>
public sealed class LocalTextEncoderStage(ModelLookup models, IOptions<DiffusionOptions> options) : ITextEncoderStage
{
    /// <inheritdoc />
    public async Task<EncodeResponse> EncodeAsync(EncodeRequest request, StageCallContext context)
    {
        var limits = options.Value.Limits;
        var violations = new RequestViolations();
        violations.Count("prompts", request.Prompts.Count, 1, limits.MaxPrompts, "prompts");
        for (int i = 0; i < request.Prompts.Count; i++)
        {
            if (request.Prompts[i].Length > limits.MaxPromptChars)
            {
                violations.Add($"prompts[{i}]", $"must be at most {limits.MaxPromptChars} characters, got {request.Prompts[i].Length}");
            }
        }
        violations.ThrowIfAny();
        var model = models.Get(request.Model);

        var prompts = request.Prompts.ToArray();
        using var runOptions = new RunOptions();
        using var registration = context.CancellationToken.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        var embeddings = await Task.Run(() => ModelLookup.Use(model, m => PromptEncoder.Encode(m, prompts, runOptions)), context.CancellationToken).ConfigureAwait(false);

        var response = new EncodeResponse
        {
            Embeddings = TensorCodec.FromFloats(embeddings.Values, embeddings.Count, embeddings.SequenceLength, embeddings.HiddenSize),
        };
        foreach (var tokens in embeddings.Tokens)
        {
            response.Tokens.Add(new PromptTokens { InputIds = { tokens.InputIds }, Truncated = tokens.Truncated });
        }
        return response;
    }
}
