using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Pipeline;
using DiffusionGrpc.Server.Hosting;
using DiffusionGrpc.Server.Validation;
using DiffusionGrpc.Server.Wire;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime;

namespace DiffusionGrpc.Server.Stages;

/// <summary>The VAE decoder in this process: latents / scaling factor, decode one image at a time, encode.</summary>
public sealed class LocalVaeDecoderStage(ModelLookup models, ImageEncoder encoder, IOptions<DiffusionOptions> options) : IVaeDecoderStage
{
    /// <inheritdoc />
    public async Task<DecodeResponse> DecodeAsync(DecodeRequest request, StageCallContext context)
    {
        var limits = options.Value.Limits;
        var violations = new RequestViolations();
        violations.Defined("format", request.Format);
        if (request.Latents is null)
        {
            violations.Add("latents", "is required: [B, C, h, w] latents from Denoiser.Denoise");
        }
        violations.ThrowIfAny();
        var model = models.Get(request.Model);
        var latents = TensorCodec.ReadFloats(request.Latents!, "latents");
        var shape = request.Latents!.Shape;
        if (shape.Count != 4)
        {
            throw RpcErrors.InvalidArgument("latents.shape", $"must be [B, C, h, w], got [{string.Join(", ", shape)}]");
        }
        int batch = (int)shape[0], channels = (int)shape[1], height = (int)shape[2], width = (int)shape[3];
        var vae = ModelLookup.Use(model, m => m.VaeDecoder);
        violations.Count("latents.shape", batch, 1, limits.MaxImages, "images (rows)");
        if (channels != vae.LatentChannels)
        {
            violations.Add("latents.shape", $"must have {vae.LatentChannels} channels for model '{model.Id}', got {channels}");
        }
        if (height * 8 > limits.MaxSide || width * 8 > limits.MaxSide || (long)height * width * 64 > limits.MaxPixels)
        {
            violations.Add("latents.shape", $"decodes to {width * 8}x{height * 8}; the limit is {limits.MaxSide} per side and {limits.MaxPixels} pixels");
        }
        if (request.Seeds.Count != 0 && request.Seeds.Count != batch)
        {
            violations.Add("seeds", $"must be empty or have one seed per image ({batch}), got {request.Seeds.Count}");
        }
        if (request.PngParameters.Count != 0 && request.PngParameters.Count != batch)
        {
            violations.Add("png_parameters", $"must be empty or have one text per image ({batch}), got {request.PngParameters.Count}");
        }
        violations.ThrowIfAny();

        var format = ImageFormats.ToCore(request.Format);
        using var runOptions = new RunOptions();
        using var registration = context.CancellationToken.Register(static s => ((RunOptions)s!).Terminate = true, runOptions);
        var decoder = new LatentDecoder(model);
        var response = new DecodeResponse();
        for (int i = 0; i < batch; i++)
        {
            int index = i;
            var image = await Task.Run(() => decoder.Decode(latents, index, channels, height, width, runOptions), context.CancellationToken).ConfigureAwait(false);
            string? parameters = format == EncodedImageFormat.Png && request.PngParameters.Count > 0 ? request.PngParameters[i] : null;
            var data = encoder.Encode(image.Pixels, image.Width, image.Height, format, parameters);
            response.Images.Add(new Image
            {
                Data = UnsafeByteOperations.UnsafeWrap(data),
                MimeType = ImageEncoder.MimeType(format),
                Width = image.Width,
                Height = image.Height,
                Seed = request.Seeds.Count > 0 ? request.Seeds[i] : 0,
            });
        }
        return response;
    }
}
