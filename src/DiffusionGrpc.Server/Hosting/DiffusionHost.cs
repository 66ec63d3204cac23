using DiffusionGrpc.Client.Pipeline;
using DiffusionGrpc.Client.Remote;
using DiffusionGrpc.Client.Stages;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Core.Imaging;
using DiffusionGrpc.Core.Models;
using DiffusionGrpc.Core.Onnx;
using DiffusionGrpc.Core.Schedulers;
using DiffusionGrpc.Server.Queueing;
using DiffusionGrpc.Server.Services;
using DiffusionGrpc.Server.Stages;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Hosting;

/// <summary>Builds the service host: configuration, the roles' services and their gRPC endpoints.</summary>
public static class DiffusionHost
{
    /// <summary>Creates the host from command-line arguments (ASP.NET Core conventions: appsettings, environment, <c>--Key=value</c>).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configure">Optional last word on the builder (tests, the CLI's in-process server).</param>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        // gRPC without TLS needs HTTP/2 only: Http1AndHttp2 without TLS silently serves HTTP/1.1 (h2c is never negotiated).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ConfigureEndpointDefaults(endpoint => endpoint.Protocols = HttpProtocols.Http2));
        // Browsers (gRPC-Web, JSON, the web page) get a second, HTTP/1.1 listener: Diffusion:WebUrls.
        WebFrontend.ConfigureListeners(builder);
        AddDiffusionServices(builder.Services, builder.Configuration);
        configure?.Invoke(builder);

        var app = builder.Build();
        MapDiffusionEndpoints(app);
        return app;
    }

    /// <summary>
    /// Starts a host on a free loopback port (h2c) and returns it with its address: the CLI's in-process
    /// server, the tests and the benchmarks use it.
    /// </summary>
    public static async Task<(WebApplication App, string Address)> StartOnLoopbackAsync(IEnumerable<string> args, Action<WebApplicationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        var app = Create(["--urls", "http://127.0.0.1:0", .. args], configure);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        return (app, addresses.First());
    }

    /// <summary>Registers the services of the configured roles.</summary>
    public static void AddDiffusionServices(IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(DiffusionOptions.Section);
        services.Configure<DiffusionOptions>(section);
        var settings = section.Get<DiffusionOptions>() ?? new DiffusionOptions();
        // "Diffusion:Roles=TextEncoder,Denoiser" (a scalar) does not bind to an array: read it as well.
        var roles = ServiceRolesParser.Parse(section["Roles"] is { } scalar ? [scalar] : settings.Roles);
        services.AddSingleton(new HostRoles(roles));

        services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = settings.Limits.MaxMessageBytes;
            grpc.MaxSendMessageSize = settings.Limits.MaxMessageBytes;
            grpc.EnableDetailedErrors = false;
            grpc.Interceptors.Add<ErrorInterceptor>();
        }).AddJsonTranscoding(WebFrontend.ConfigureJsonTranscoding);
        services.AddGrpcReflection();

        services.AddSingleton(sp => new OnnxSessionFactory(settings.ExecutionProvider, sp.GetRequiredService<ILogger<OnnxSessionFactory>>(), settings.CudaDeviceId, settings.IntraOpThreads, settings.IntraOpSpinning));
        services.AddSingleton(sp => new ModelRepository(
            ModelsRootLocator.Resolve(settings.ModelsPath),
            sp.GetRequiredService<OnnxSessionFactory>(),
            sp.GetRequiredService<ILogger<ModelRepository>>(),
            settings.DefaultModel));
        services.AddSingleton<ModelLookup>();
        services.AddSingleton<SchedulerFactory>();
        services.AddSingleton<ImageEncoder>();
        services.AddSingleton<DenoiserQueue>();
        services.AddSingleton<LocalTextEncoderStage>();
        services.AddSingleton<LocalDenoiserStage>();
        services.AddSingleton<LocalVaeDecoderStage>();
        services.AddSingleton<ModelWarmup>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelWarmup>());
        services.AddGrpcHealthChecks().AddCheck<ModelWarmup>("models");

        if (roles.HasFlag(ServiceRoles.Generation))
        {
            services.AddSingleton(sp => ResolveStage<ITextEncoderStage>(sp, roles, ServiceRoles.TextEncoder, settings.Remote.TextEncoder,
                () => sp.GetRequiredService<LocalTextEncoderStage>(),
                (channel, resilience) => new GrpcTextEncoderStage(new TextEncoder.TextEncoderClient(channel), resilience)));
            services.AddSingleton(sp => ResolveStage<IDenoiserStage>(sp, roles, ServiceRoles.Denoiser, settings.Remote.Denoiser,
                () => sp.GetRequiredService<LocalDenoiserStage>(),
                (channel, resilience) => new GrpcDenoiserStage(new Denoiser.DenoiserClient(channel), resilience)));
            services.AddSingleton(sp => ResolveStage<IVaeDecoderStage>(sp, roles, ServiceRoles.VaeDecoder, settings.Remote.VaeDecoder,
                () => sp.GetRequiredService<LocalVaeDecoderStage>(),
                (channel, resilience) => new GrpcVaeDecoderStage(new VaeDecoder.VaeDecoderClient(channel), resilience)));
            services.AddSingleton<GenerationPipeline>();
            services.AddSingleton<RemoteChannels>();
        }
    }

    /// <summary>Maps the gRPC services of the configured roles, reflection and health.</summary>
    public static void MapDiffusionEndpoints(WebApplication app)
    {
        var roles = app.Services.GetRequiredService<HostRoles>().Roles;
        WebFrontend.Map(app, roles);
        if (roles.HasFlag(ServiceRoles.TextEncoder))
        {
            app.MapGrpcService<TextEncoderService>();
        }
        if (roles.HasFlag(ServiceRoles.Denoiser))
        {
            app.MapGrpcService<DenoiserService>();
        }
        if (roles.HasFlag(ServiceRoles.VaeDecoder))
        {
            app.MapGrpcService<VaeDecoderService>();
        }
        if (roles.HasFlag(ServiceRoles.Generation))
        {
            app.MapGrpcService<GenerationService>();
        }
        app.MapGrpcReflectionService();
        app.MapGrpcHealthChecksService();
    }

    private static T ResolveStage<T>(IServiceProvider services, ServiceRoles roles, ServiceRoles role, string? addresses, Func<T> local, Func<Grpc.Net.Client.GrpcChannel, StageResilience, T> remote)
    {
        if (string.IsNullOrWhiteSpace(addresses))
        {
            if (!roles.HasFlag(role))
            {
                throw new InvalidOperationException($"The Generation role needs the {role} role: serve it here (Diffusion:Roles) or set Diffusion:Remote:{role} to its address(es).");
            }
            return local();
        }
        var options = services.GetRequiredService<IOptions<DiffusionOptions>>().Value;
        var channel = services.GetRequiredService<RemoteChannels>().Get(addresses, options.Limits.MaxMessageBytes);
        return remote(channel, new StageResilience(options.Resilience));
    }
}

/// <summary>The channels to remote roles, owned by the host and disposed with it.</summary>
public sealed class RemoteChannels : IDisposable
{
    private readonly Dictionary<string, Grpc.Net.Client.GrpcChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>The channel to <paramref name="addresses"/> (one per distinct list).</summary>
    public Grpc.Net.Client.GrpcChannel Get(string addresses, int maxMessageBytes)
    {
        lock (_channels)
        {
            if (!_channels.TryGetValue(addresses, out var channel))
            {
                channel = StageChannels.Create(StageChannels.ParseAddresses(addresses), maxMessageBytes);
                _channels[addresses] = channel;
            }
            return channel;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_channels)
        {
            foreach (var channel in _channels.Values)
            {
                channel.Dispose();
            }
            _channels.Clear();
        }
    }
}
