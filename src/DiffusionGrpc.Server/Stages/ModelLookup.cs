using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Schedulers;
using DiffusionGrpc.Server.Validation;

namespace DiffusionGrpc.Server.Stages;

/// <summary>Resolves request model ids to loaded models, with the contract's errors.</summary>
public sealed class ModelLookup(ModelRepository repository)
{
    /// <summary>The repository.</summary>
    public ModelRepository Repository => repository;

    /// <summary>
    /// The model named by <paramref name="id"/> (empty = default). NOT_FOUND when there is none or the id is
    /// not a plain folder name; FAILED_PRECONDITION when its folder cannot be loaded.
    /// </summary>
    public DiffusionModel Get(string id, string field = "model")
    {
        RequestViolations.ThrowIfBadModelId(field, id);
        try
        {
            return repository.Find(id) ?? throw RpcErrors.ModelNotFound(field, id.Length == 0 ? "(default)" : id);
        }
        catch (Exception ex) when (ex is InvalidDataException or SchedulerConfigException or IOException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw RpcErrors.FailedPrecondition($"Model '{id}' cannot be loaded: {ex.Message}");
        }
    }

    /// <summary>Runs <paramref name="use"/> on the model's sessions, turning load failures of a session into FAILED_PRECONDITION.</summary>
    public static T Use<T>(DiffusionModel model, Func<DiffusionModel, T> use)
    {
        try
        {
            return use(model);
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or NotSupportedException)
        {
            throw RpcErrors.FailedPrecondition($"Model '{model.Id}' cannot serve this: {ex.Message}");
        }
    }

    /// <summary>The public description of a model.</summary>
    public static ModelInfo Describe(DiffusionModel model)
    {
        var info = new ModelInfo
        {
            Id = model.Id,
            DefaultWidth = model.Defaults.Width,
            DefaultHeight = model.Defaults.Height,
            DefaultSteps = model.Defaults.Steps,
            DefaultGuidanceScale = model.Defaults.GuidanceScale,
            DefaultScheduler = SchedulerMapping.ToKind(model.SchedulerConfig.Type),
            SchedulerClass = model.SchedulerConfig.ClassName ?? "",
        };
        try
        {
            info.UsesTimestepCond = model.Unet.TimestepCondSize > 0;
        }
        catch (Exception ex) when (ex is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException or FileNotFoundException)
        {
            // A host without the UNet's files (a text-encoder-only node) still describes the model.
        }
        return info;
    }
}
