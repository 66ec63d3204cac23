using DiffusionGrpc.Core.Models;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Hosting;

/// <summary>
/// Opens every model of the root and creates the sessions the host's roles need, in the background after
/// startup; the health check reports SERVING once that is done.
/// </summary>
public sealed class ModelWarmup(ModelRepository models, HostRoles roles, IOptions<DiffusionOptions> options, ILogger<ModelWarmup> logger)
    : BackgroundService, IHealthCheck
{
    private volatile bool _ready;

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        if (options.Value.PreloadModels)
        {
            bool textEncoder = roles.Serves(ServiceRoles.TextEncoder);
            bool unet = roles.Serves(ServiceRoles.Denoiser);
            bool vae = roles.Serves(ServiceRoles.VaeDecoder);
            foreach (var id in models.ListIds())
            {
                stoppingToken.ThrowIfCancellationRequested();
                try
                {
                    models.Find(id)?.Warm(textEncoder, unet, vae);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // One broken folder must not keep the others from serving.
                    logger.LogError(ex, "Model {Model} could not be loaded", id);
                }
            }
        }
        logger.LogInformation("Models root {Root}: {Count} model(s) ready for roles {Roles}", models.Root, models.ListIds().Count, roles);
        _ready = true;
    }, stoppingToken);

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_ready ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("Loading models."));
}
