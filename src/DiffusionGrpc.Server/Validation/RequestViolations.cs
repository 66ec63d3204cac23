using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Hosting;

namespace DiffusionGrpc.Server.Validation;

/// <summary>
/// Collects the field violations of one request, with messages that name the field and the allowed range,
/// and throws them together as one INVALID_ARGUMENT.
/// </summary>
public sealed class RequestViolations
{
    private readonly List<(string Field, string Description)> _violations = [];

    /// <summary>True when no violation was found.</summary>
    public bool IsEmpty => _violations.Count == 0;

    /// <summary>Records a violation of <paramref name="field"/>.</summary>
    public void Add(string field, string description) => _violations.Add((field, description));

    /// <summary>Throws INVALID_ARGUMENT when any violation was found.</summary>
    public void ThrowIfAny()
    {
        if (_violations.Count > 0)
        {
            throw RpcErrors.InvalidArgument(_violations);
        }
    }

    /// <summary>An image side: 0 (model default) or a multiple of 8 within the limits.</summary>
    public void Side(string field, int value, LimitsOptions limits)
    {
        if (value != 0 && (value < limits.MinSide || value > limits.MaxSide || value % 8 != 0))
        {
            Add(field, $"must be 0 (model default) or a multiple of 8 from {limits.MinSide} to {limits.MaxSide}, got {value}");
        }
    }

    /// <summary>The resolved image area within the pixel limit.</summary>
    public void Area(int width, int height, LimitsOptions limits)
    {
        if ((long)width * height > limits.MaxPixels)
        {
            Add("width", $"width x height must be at most {limits.MaxPixels} pixels, got {width}x{height}");
        }
    }

    /// <summary>Steps: 0 (model default) or 1 to the limit.</summary>
    public void Steps(string field, int value, LimitsOptions limits)
    {
        if (value < 0 || value > limits.MaxSteps)
        {
            Add(field, $"must be 0 (model default) or from 1 to {limits.MaxSteps}, got {value}");
        }
    }

    /// <summary>A finite float.</summary>
    public void Finite(string field, float value)
    {
        if (!float.IsFinite(value))
        {
            Add(field, $"must be a finite number, got {value}");
        }
    }

    /// <summary>A known enum value.</summary>
    public void Defined<TEnum>(string field, TEnum value) where TEnum : struct, System.Enum
    {
        if (!System.Enum.IsDefined(value))
        {
            Add(field, $"unknown value {Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)}; allowed: {string.Join(", ", System.Enum.GetNames<TEnum>())}");
        }
    }

    /// <summary>Scheduler options: known kind and spacing, eta in [0, 1].</summary>
    public void Scheduler(string prefix, SchedulerOptions? options)
    {
        if (options is null)
        {
            return;
        }
        Defined($"{prefix}.kind", options.Kind);
        Defined($"{prefix}.timestep_spacing", options.TimestepSpacing);
        if (!float.IsFinite(options.Eta) || options.Eta < 0f || options.Eta > 1f)
        {
            Add($"{prefix}.eta", $"must be from 0 to 1, got {options.Eta}");
        }
    }

    /// <summary>Preview options: known kind and format, every_n_steps within [0, 1000].</summary>
    public void Preview(string prefix, PreviewOptions? options)
    {
        if (options is null)
        {
            return;
        }
        Defined($"{prefix}.kind", options.Kind);
        Defined($"{prefix}.format", options.Format);
        if (options.EveryNSteps < 0 || options.EveryNSteps > 1000)
        {
            Add($"{prefix}.every_n_steps", $"must be from 0 to 1000 (0 or 1 = every step), got {options.EveryNSteps}");
        }
    }

    /// <summary>A model id field: empty or a plain folder name (anything else can never name a model).</summary>
    public static void ThrowIfBadModelId(string field, string id)
    {
        if (id.Length > 0 && !Core.Models.ModelRepository.IsPlainFolderName(id))
        {
            throw RpcErrors.ModelNotFound(field, id);
        }
    }

    /// <summary>A count within a range.</summary>
    public void Count(string field, int count, int min, int max, string what)
    {
        if (count < min || count > max)
        {
            Add(field, $"must have {min} to {max} {what}, got {count}");
        }
    }
}
