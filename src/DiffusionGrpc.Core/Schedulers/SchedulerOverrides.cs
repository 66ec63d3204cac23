namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// A request's scheduler options, applied over the model's config: null (and <see cref="Eta"/> 0) means "as the
/// config says".
/// </summary>
/// <param name="Type">The scheduler class to use instead of the config's <c>_class_name</c>.</param>
/// <param name="TimestepSpacing">The timestep spacing instead of the config's (or the class default).</param>
/// <param name="UseKarrasSigmas">Karras sigmas on or off (LMS, Euler and DPM++ 2M only support on).</param>
/// <param name="Eta">DDIM's eta (0 to 1); must be 0 for every other scheduler.</param>
public sealed record SchedulerOverrides(
    SchedulerType? Type = null,
    TimestepSpacingMode? TimestepSpacing = null,
    bool? UseKarrasSigmas = null,
    float Eta = 0f)
{
    /// <summary>No overrides: the model's config as it is.</summary>
    public static SchedulerOverrides None { get; } = new();
}
