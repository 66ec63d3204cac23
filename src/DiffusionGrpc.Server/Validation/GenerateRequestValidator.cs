using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Hosting;

namespace DiffusionGrpc.Server.Validation;

/// <summary>Checks every field of a GenerateRequest before any stage runs.</summary>
public static class GenerateRequestValidator
{
    /// <summary>Throws INVALID_ARGUMENT (all violations at once) or NOT_FOUND for a model id that cannot name a folder.</summary>
    public static void Validate(GenerateRequest request, LimitsOptions limits)
    {
        RequestViolations.ThrowIfBadModelId("model", request.Model);
        var violations = new RequestViolations();
        if (request.Prompt.Length > limits.MaxPromptChars)
        {
            violations.Add("prompt", $"must be at most {limits.MaxPromptChars} characters, got {request.Prompt.Length}");
        }
        if (request.NegativePrompt.Length > limits.MaxPromptChars)
        {
            violations.Add("negative_prompt", $"must be at most {limits.MaxPromptChars} characters, got {request.NegativePrompt.Length}");
        }
        violations.Side("width", request.Width, limits);
        violations.Side("height", request.Height, limits);
        if (request.Width != 0 && request.Height != 0)
        {
            violations.Area(request.Width, request.Height, limits);
        }
        violations.Steps("steps", request.Steps, limits);
        if (request.GuidanceScale is float guidance)
        {
            violations.Finite("guidance_scale", guidance);
        }
        violations.Scheduler("scheduler", request.Scheduler);
        if (request.NumImages < 0 || request.NumImages > limits.MaxImages)
        {
            violations.Add("num_images", $"must be from 0 to {limits.MaxImages} (0 = 1), got {request.NumImages}");
        }
        violations.Preview("preview", request.Preview);
        violations.Defined("output_format", request.OutputFormat);
        violations.ThrowIfAny();
    }
}
