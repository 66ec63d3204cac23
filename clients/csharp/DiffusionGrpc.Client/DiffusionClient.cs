using System.Runtime.CompilerServices;
using DiffusionGrpc.Client.Pipeline;
using DiffusionGrpc.Client.Remote;
using DiffusionGrpc.Contracts.V1;
using Grpc.Core;
using Grpc.Net.Client;

namespace DiffusionGrpc.Client;

/// <summary>
/// A client of a DiffusionGrpc server: typed clients of its four services, and <see cref="GenerateAsync(GenerateRequest, CancellationToken, DateTime?)"/>
/// as an <see cref="IAsyncEnumerable{T}"/> of updates (queue position, a step with previews, the result).
/// </summary>
/// <example>
/// <code>
/// using var client = DiffusionClient.Connect("http://127.0.0.1:5000");
/// await foreach (var update in client.GenerateAsync(new GenerateRequest { Prompt = "a red circle on a blue background" }))
/// {
///     if (update.Step is { } step) Console.WriteLine($"{step.Step}/{step.TotalSteps}");
///     if (update.Result is { } result) File.WriteAllBytes("out.png", result.Images[0].Data.ToByteArray());
/// }
/// </code>
/// </example>
public sealed class DiffusionClient : IDisposable
{
    private readonly GrpcChannel? _ownedChannel;

    /// <summary>Wraps an existing channel (not disposed with the client).</summary>
    public DiffusionClient(ChannelBase channel)
    {
        Generation = new Generation.GenerationClient(channel);
        TextEncoder = new TextEncoder.TextEncoderClient(channel);
        Denoiser = new Denoiser.DenoiserClient(channel);
        VaeDecoder = new VaeDecoder.VaeDecoderClient(channel);
    }

    private DiffusionClient(GrpcChannel channel, bool owned) : this(channel) => _ownedChannel = owned ? channel : null;

    /// <summary>Connects to one server (http:// = h2c, https:// = TLS), or several separated by commas (round robin).</summary>
    public static DiffusionClient Connect(string addresses, int maxMessageBytes = StageChannels.DefaultMaxMessageBytes) =>
        new(StageChannels.Create(StageChannels.ParseAddresses(addresses), maxMessageBytes), owned: true);

    /// <summary>The Generation (orchestrator) service.</summary>
    public Generation.GenerationClient Generation { get; }

    /// <summary>The TextEncoder service.</summary>
    public TextEncoder.TextEncoderClient TextEncoder { get; }

    /// <summary>The Denoiser service.</summary>
    public Denoiser.DenoiserClient Denoiser { get; }

    /// <summary>The VaeDecoder service.</summary>
    public VaeDecoder.VaeDecoderClient VaeDecoder { get; }

    /// <summary>Streams the updates of a Generate call. Cancelling the token cancels the generation on the server.</summary>
    public async IAsyncEnumerable<GenerateUpdate> GenerateAsync(GenerateRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default, DateTime? deadline = null)
    {
        using var call = Generation.Generate(request, deadline: deadline, cancellationToken: cancellationToken);
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current;
        }
    }

    /// <summary>Generates an image of <paramref name="prompt"/> with the model's defaults, streaming updates.</summary>
    public IAsyncEnumerable<GenerateUpdate> GenerateAsync(string prompt, CancellationToken cancellationToken = default) =>
        GenerateAsync(new GenerateRequest { Prompt = prompt }, cancellationToken);

    /// <summary>Runs a generation to its end and returns its result.</summary>
    /// <param name="request">The request.</param>
    /// <param name="progress">Receives every queue and step update.</param>
    /// <param name="cancellationToken">Cancels the generation.</param>
    public async Task<GenerationResult> GenerateToEndAsync(GenerateRequest request, IProgress<GenerateUpdate>? progress = null, CancellationToken cancellationToken = default)
    {
        await foreach (var update in GenerateAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (update.Result is { } result)
            {
                return result;
            }
            progress?.Report(update);
        }
        throw new RpcException(new Status(StatusCode.Internal, "The server ended Generate without a result."));
    }

    /// <summary>The models the server serves.</summary>
    public async Task<IReadOnlyList<ModelInfo>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        (await Generation.ListModelsAsync(new ListModelsRequest(), cancellationToken: cancellationToken).ResponseAsync.ConfigureAwait(false)).Models;

    /// <summary>
    /// A pipeline that chains TextEncoder → Denoiser → VaeDecoder from this side, for deployments without
    /// the Generation service; the three may live on other servers.
    /// </summary>
    /// <param name="textEncoder">Channel to the TextEncoder service.</param>
    /// <param name="denoiser">Channel to the Denoiser service.</param>
    /// <param name="vaeDecoder">Channel to the VaeDecoder service.</param>
    /// <param name="resilience">Retry, timeout and circuit-breaker settings; null = defaults.</param>
    public static GenerationPipeline CreateStagedPipeline(ChannelBase textEncoder, ChannelBase denoiser, ChannelBase vaeDecoder, StageResilienceOptions? resilience = null)
    {
        var options = resilience ?? new StageResilienceOptions();
        return new GenerationPipeline(
            new GrpcTextEncoderStage(new TextEncoder.TextEncoderClient(textEncoder), new StageResilience(options)),
            new GrpcDenoiserStage(new Denoiser.DenoiserClient(denoiser), new StageResilience(options)),
            new GrpcVaeDecoderStage(new VaeDecoder.VaeDecoderClient(vaeDecoder), new StageResilience(options)));
    }

    /// <inheritdoc />
    public void Dispose() => _ownedChannel?.Dispose();
}
