using DiffusionGrpc.Contracts.V1;
using Google.Rpc;
using Grpc.Core;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace DiffusionGrpc.Server.Tests;

/// <summary>Request helpers shared by the service tests.</summary>
internal static class TestRequests
{
    /// <summary>Collects every update of a Generate call.</summary>
    public static async Task<List<GenerateUpdate>> GenerateAllAsync(this LoopbackServer server, GenerateRequest request, CancellationToken cancellationToken = default)
    {
        var updates = new List<GenerateUpdate>();
        await foreach (var update in server.Client.GenerateAsync(request, cancellationToken))
        {
            updates.Add(update);
        }
        return updates;
    }

    /// <summary>Collects every update of a Denoise call.</summary>
    public static async Task<List<DenoiseUpdate>> DenoiseAllAsync(this LoopbackServer server, DenoiseRequest request, CancellationToken cancellationToken = default, DateTime? deadline = null)
    {
        var updates = new List<DenoiseUpdate>();
        using var call = server.Client.Denoiser.Denoise(request, deadline: deadline, cancellationToken: cancellationToken);
        await foreach (var update in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            updates.Add(update);
        }
        return updates;
    }

    /// <summary>Text embeddings of prompts from the TextEncoder service.</summary>
    public static async Task<EncodeResponse> EncodeAsync(this LoopbackServer server, string model, params string[] prompts) =>
        await server.Client.TextEncoder.EncodeAsync(new EncodeRequest { Model = model, Prompts = { prompts } });

    /// <summary>A denoise request for <paramref name="batch"/> images of "a red circle" with guidance on "".</summary>
    public static async Task<DenoiseRequest> DenoiseRequestAsync(this LoopbackServer server, string model, int batch = 1, int steps = 4, float guidance = 7.5f)
    {
        var encoded = await server.EncodeAsync(model, "a red circle", "");
        return new DenoiseRequest
        {
            Model = model,
            TextEmbeddings = Client.Pipeline.TensorRows.Repeat(encoded.Embeddings, 0, batch),
            UncondEmbeddings = Client.Pipeline.TensorRows.Repeat(encoded.Embeddings, 1, 1),
            Steps = steps,
            GuidanceScale = guidance,
            Seed = 42,
        };
    }

    /// <summary>The float32 values of a wire tensor.</summary>
    public static float[] Floats(this Tensor tensor)
    {
        Assert.Equal(DataType.Float32, tensor.Dtype);
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.Data.Span).ToArray();
    }

    /// <summary>Asserts that <paramref name="call"/> fails with <paramref name="code"/>; for INVALID_ARGUMENT also that BadRequest details name <paramref name="field"/>.</summary>
    public static async Task<RpcException> AssertFailsAsync(StatusCode code, Func<Task> call, string? field = null)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == ex.StatusCode, $"Expected {code}, got {ex.StatusCode}: {ex.Status.Detail}");
        if (field is not null)
        {
            var badRequest = ex.GetRpcStatus()?.GetDetail<BadRequest>();
            Assert.NotNull(badRequest);
            Assert.Contains(badRequest!.FieldViolations, v => v.Field == field);
            Assert.Contains(field, ex.Status.Detail);
        }
        return ex;
    }

    /// <summary>Decodes an encoded image and returns its pixels.</summary>
    public static Image<Rgb24> DecodeImage(this DiffusionGrpc.Contracts.V1.Image image) => SixLabors.ImageSharp.Image.Load<Rgb24>(image.Data.Span);
}
