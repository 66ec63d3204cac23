namespace DiffusionGrpc.Core.Schedulers;

/// <summary>
/// A <c>scheduler_config.json</c> that cannot be used: a key with a value of the wrong type or outside the values
/// this project supports. Thrown when a model is loaded.
/// </summary>
public sealed class SchedulerConfigException : Exception
{
    /// <summary>Creates the exception for config key <paramref name="key"/>.</summary>
    public SchedulerConfigException(string key, string message) : base(message) => Key = key;

    /// <summary>The offending key of the config (e.g. <c>beta_schedule</c>).</summary>
    public string Key { get; }
}

/// <summary>
/// A request's scheduler option (or step count) that the chosen scheduler does not support. The service maps it to
/// INVALID_ARGUMENT with <see cref="Field"/> as the BadRequest field.
/// </summary>
public sealed class SchedulerOptionException : Exception
{
    /// <summary>Creates the exception for the request field <paramref name="field"/>.</summary>
    public SchedulerOptionException(string field, string message) : base(message) => Field = field;

    /// <summary>The proto path of the offending field: <c>scheduler.use_karras_sigmas</c>, <c>scheduler.eta</c>,
    /// <c>scheduler.kind</c>, <c>scheduler.timestep_spacing</c> or <c>steps</c>.</summary>
    public string Field { get; }
}

/// <summary>
/// The model's <c>_class_name</c> is not a scheduler this project implements and the request named none.
/// The service maps it to FAILED_PRECONDITION naming <see cref="ClassName"/>.
/// </summary>
public sealed class SchedulerUnsupportedException : Exception
{
    /// <summary>Creates the exception for the unsupported class <paramref name="className"/>.</summary>
    public SchedulerUnsupportedException(string? className)
        : base($"The model's scheduler class '{className ?? "(none)"}' is not supported; name a scheduler kind in the request " +
               "(LMS, EULER, EULER_ANCESTRAL, DDIM, PNDM, DPMPP_2M or LCM).")
        => ClassName = className;

    /// <summary>The <c>_class_name</c> of the model's config (null when the config has none).</summary>
    public string? ClassName { get; }
}
