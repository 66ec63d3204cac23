using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Core.Onnx;

/// <summary>
/// Creates the <see cref="InferenceSession"/>s of the models with the configured execution provider.
/// In <see cref="ExecutionProvider.Auto"/> mode the first CUDA failure is logged and remembered, so
/// later sessions go straight to the CPU.
/// </summary>
public sealed class OnnxSessionFactory
{
    // ORT's native logger prints the CUDA provider's load failure as an error before the managed exception
    // (that is logged here as a warning); probes are serialized so the quieter level can be restored.
    private static readonly Lock CudaProbeLock = new();

    private readonly ExecutionProvider _provider;
    private readonly int _cudaDeviceId;
    private readonly int _intraOpThreads;
    private readonly bool _intraOpSpinning;
    private readonly ILogger _logger;
    private volatile bool _cudaUnavailable;

    /// <summary>Creates a factory.</summary>
    /// <param name="provider">The execution provider mode.</param>
    /// <param name="logger">Where the provider choice is logged.</param>
    /// <param name="cudaDeviceId">CUDA device ordinal.</param>
    /// <param name="intraOpThreads">Intra-op threads; 0 = ONNX Runtime's default (one per core).</param>
    /// <param name="intraOpSpinning">
    /// Whether idle intra-op threads spin (ONNX Runtime's default) instead of sleeping. Off by default: on a
    /// few shared cores spinning threads steal time from the ones doing work (FIELD-NOTES; measured by the
    /// pipeline benchmark).
    /// </param>
    public OnnxSessionFactory(ExecutionProvider provider, ILogger logger, int cudaDeviceId = 0, int intraOpThreads = 0, bool intraOpSpinning = false)
    {
        _provider = provider;
        _logger = logger;
        _cudaDeviceId = cudaDeviceId;
        _intraOpThreads = intraOpThreads;
        _intraOpSpinning = intraOpSpinning;
    }

    /// <summary>The provider the last created session runs on ("CUDA" or "CPU").</summary>
    public string ActiveProvider { get; private set; } = "CPU";

    /// <summary>Creates a session for the model file at <paramref name="modelPath"/> (external data next to it is found by ONNX Runtime).</summary>
    public InferenceSession Create(string modelPath)
    {
        if (_provider != ExecutionProvider.Cpu && !_cudaUnavailable)
        {
            SessionOptions? options = null;
            var env = OrtEnv.Instance();
            lock (CudaProbeLock)
            {
                var level = env.EnvLogLevel;
                try
                {
                    if (_provider == ExecutionProvider.Auto)
                    {
                        env.EnvLogLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
                    }
                    options = CreateOptions();
                    options.AppendExecutionProvider_CUDA(_cudaDeviceId);
                    var session = new InferenceSession(modelPath, options);
                    ActiveProvider = "CUDA";
                    return session;
                }
                catch (Exception ex) when (_provider == ExecutionProvider.Auto && ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
                {
                    _cudaUnavailable = true;
                    _logger.LogWarning("CUDA execution provider unavailable, using CPU: {Reason}", ex.Message);
                }
                finally
                {
                    env.EnvLogLevel = level;
                    options?.Dispose();
                }
            }
        }

        using var cpuOptions = CreateOptions();
        ActiveProvider = "CPU";
        return new InferenceSession(modelPath, cpuOptions);
    }

    private SessionOptions CreateOptions()
    {
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (_intraOpThreads > 0)
        {
            options.IntraOpNumThreads = _intraOpThreads;
        }
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", _intraOpSpinning ? "1" : "0");
        return options;
    }
}
