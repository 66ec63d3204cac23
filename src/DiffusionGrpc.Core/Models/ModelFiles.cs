namespace DiffusionGrpc.Core.Models;

/// <summary>The paths of a model folder in the layout <c>optimum-cli export onnx</c> writes.</summary>
/// <param name="Root">The model folder.</param>
public sealed record ModelFiles(string Root)
{
    /// <summary>The project's own defaults file (optional): steps, guidance, size, latent-RGB factors.</summary>
    public const string ProjectDefaultsFileName = "diffusiongrpc.json";

    /// <summary><c>model_index.json</c>: its presence makes a folder a model.</summary>
    public string ModelIndex => Path.Combine(Root, "model_index.json");

    /// <summary>The tokenizer folder.</summary>
    public string Tokenizer => Path.Combine(Root, "tokenizer");

    /// <summary>The text encoder graph.</summary>
    public string TextEncoder => Path.Combine(Root, "text_encoder", "model.onnx");

    /// <summary>The UNet graph.</summary>
    public string Unet => Path.Combine(Root, "unet", "model.onnx");

    /// <summary>The UNet config (<c>sample_size</c>).</summary>
    public string UnetConfig => Path.Combine(Root, "unet", "config.json");

    /// <summary>The VAE decoder graph.</summary>
    public string VaeDecoder => Path.Combine(Root, "vae_decoder", "model.onnx");

    /// <summary>The VAE decoder config (<c>scaling_factor</c>).</summary>
    public string VaeDecoderConfig => Path.Combine(Root, "vae_decoder", "config.json");

    /// <summary>The scheduler config.</summary>
    public string SchedulerConfig => Path.Combine(Root, "scheduler", "scheduler_config.json");

    /// <summary>The project's defaults file.</summary>
    public string ProjectDefaults => Path.Combine(Root, ProjectDefaultsFileName);
}
