using DiffusionGrpc.Client.Remote;
using DiffusionGrpc.Core.Onnx;

namespace DiffusionGrpc.Server.Hosting;

/// <summary>The <c>Diffusion</c> configuration section.</summary>
public sealed class DiffusionOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "Diffusion";

    /// <summary>The models root; unset = the repository's own <c>models/</c> folder.</summary>
    public string? ModelsPath { get; set; }

    /// <summary>The model served for requests with an empty <c>model</c>; unset = the only or the first model.</summary>
    public string? DefaultModel { get; set; }

    /// <summary>auto | cuda | cpu.</summary>
    public ExecutionProvider ExecutionProvider { get; set; } = ExecutionProvider.Auto;

    /// <summary>CUDA device ordinal.</summary>
    public int CudaDeviceId { get; set; }

    /// <summary>ONNX Runtime intra-op threads; 0 = one per core.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Let idle ONNX Runtime intra-op threads spin (its own default) rather than sleep; off by default.</summary>
    public bool IntraOpSpinning { get; set; }

    /// <summary>The roles this host serves (TextEncoder, Denoiser, VaeDecoder, Generation); empty = all.</summary>
    public string[] Roles { get; set; } = [];

    /// <summary>Create every session of the served roles at startup (health turns SERVING after).</summary>
    public bool PreloadModels { get; set; } = true;

    /// <summary>Addresses of the roles this host does not serve.</summary>
    public RemoteRolesOptions Remote { get; set; } = new();

    /// <summary>Request limits.</summary>
    public LimitsOptions Limits { get; set; } = new();

    /// <summary>The denoiser's wait queue.</summary>
    public QueueOptions Queue { get; set; } = new();

    /// <summary>Retry, timeout and circuit-breaker settings of calls to remote roles.</summary>
    public StageResilienceOptions Resilience { get; set; } = new();
}

/// <summary>Addresses of remote roles: one URL, or several separated by commas (client-side round robin).</summary>
public sealed class RemoteRolesOptions
{
    /// <summary>TextEncoder service address(es).</summary>
    public string? TextEncoder { get; set; }

    /// <summary>Denoiser service address(es).</summary>
    public string? Denoiser { get; set; }

    /// <summary>VaeDecoder service address(es).</summary>
    public string? VaeDecoder { get; set; }
}

/// <summary>Request limits: anything over them is INVALID_ARGUMENT naming the field and the limit.</summary>
public sealed class LimitsOptions
{
    /// <summary>Smallest width or height.</summary>
    public int MinSide { get; set; } = 8;

    /// <summary>Largest width or height.</summary>
    public int MaxSide { get; set; } = 2048;

    /// <summary>Largest width x height.</summary>
    public long MaxPixels { get; set; } = 2048L * 2048L;

    /// <summary>Most inference steps.</summary>
    public int MaxSteps { get; set; } = 1000;

    /// <summary>Most images per request.</summary>
    public int MaxImages { get; set; } = 16;

    /// <summary>Most prompts per Encode call.</summary>
    public int MaxPrompts { get; set; } = 64;

    /// <summary>Longest prompt in characters (longer prompts are truncated by the tokenizer anyway; this bounds the work).</summary>
    public int MaxPromptChars { get; set; } = 10_000;

    /// <summary>Largest gRPC message, both ways.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024 * 1024;
}

/// <summary>The denoiser's bounded wait queue.</summary>
public sealed class QueueOptions
{
    /// <summary>Denoising jobs that run at once.</summary>
    public int MaxConcurrent { get; set; } = 1;

    /// <summary>Jobs that may wait; past it requests get RESOURCE_EXHAUSTED.</summary>
    public int Capacity { get; set; } = 32;
}
