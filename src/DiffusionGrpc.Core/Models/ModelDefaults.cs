namespace DiffusionGrpc.Core.Models;

/// <summary>The defaults a model is served with when a request leaves a setting at 0 or absent.</summary>
/// <param name="Width">Image width in pixels.</param>
/// <param name="Height">Image height in pixels.</param>
/// <param name="Steps">Inference steps.</param>
/// <param name="GuidanceScale">Classifier-free guidance scale (&lt;= 1 = none).</param>
public sealed record ModelDefaults(int Width, int Height, int Steps, float GuidanceScale)
{
    /// <summary>diffusers' StableDiffusionPipeline defaults for an SD 1.x model.</summary>
    public static ModelDefaults StableDiffusion { get; } = new(512, 512, 50, 7.5f);
}
