using System.Globalization;
using System.Text;
using DiffusionGrpc.Contracts.V1;

namespace DiffusionGrpc.Client.Pipeline;

/// <summary>
/// AUTOMATIC1111's "infotext", the <c>parameters</c> text that its PNGs carry and that tools read back:
/// the prompt, <c>Negative prompt: ...</c>, then <c>Steps: 20, Sampler: Euler a, CFG scale: 7.5, Seed: 1, Size: 512x512, Model: id</c>.
/// </summary>
public static class Infotext
{
    /// <summary>The sampler name A1111 uses for a scheduler.</summary>
    public static string SamplerName(SchedulerKind kind, bool karras) => kind switch
    {
        SchedulerKind.Lms => karras ? "LMS Karras" : "LMS",
        SchedulerKind.Euler => "Euler",
        SchedulerKind.EulerAncestral => "Euler a",
        SchedulerKind.Ddim => "DDIM",
        SchedulerKind.Pndm => "PLMS",
        SchedulerKind.Dpmpp2M => karras ? "DPM++ 2M Karras" : "DPM++ 2M",
        SchedulerKind.Lcm => "LCM",
        _ => "Unknown",
    };

    /// <summary>Formats the infotext of one image of a resolved request.</summary>
    public static string Format(GenerateRequest resolved, ulong seed)
    {
        var text = new StringBuilder(resolved.Prompt.Length + 160);
        text.Append(resolved.Prompt.Replace('\n', ' '));
        if (!string.IsNullOrEmpty(resolved.NegativePrompt))
        {
            text.Append("\nNegative prompt: ").Append(resolved.NegativePrompt.Replace('\n', ' '));
        }
        var inv = CultureInfo.InvariantCulture;
        var scheduler = resolved.Scheduler ?? new SchedulerOptions();
        text.Append('\n')
            .Append("Steps: ").Append(resolved.Steps.ToString(inv))
            .Append(", Sampler: ").Append(SamplerName(scheduler.Kind, scheduler.UseKarrasSigmas ?? false))
            .Append(", CFG scale: ").Append((resolved.GuidanceScale ?? 1f).ToString("0.###", inv))
            .Append(", Seed: ").Append(seed.ToString(inv))
            .Append(", Size: ").Append(resolved.Width.ToString(inv)).Append('x').Append(resolved.Height.ToString(inv))
            .Append(", Model: ").Append(resolved.Model);
        if (scheduler.Kind == SchedulerKind.Ddim && scheduler.Eta != 0)
        {
            text.Append(", Eta: ").Append(scheduler.Eta.ToString("0.###", inv));
        }
        return text.ToString();
    }
}
