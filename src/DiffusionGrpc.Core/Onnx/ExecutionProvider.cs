namespace DiffusionGrpc.Core.Onnx;

/// <summary>Which ONNX Runtime execution provider runs the models (<c>Diffusion:ExecutionProvider</c>).</summary>
public enum ExecutionProvider
{
    /// <summary>CUDA when it loads, else CPU (the reason is logged).</summary>
    Auto,
    /// <summary>CUDA only: failing to load it is an error.</summary>
    Cuda,
    /// <summary>CPU only.</summary>
    Cpu,
}
