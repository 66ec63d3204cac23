using System.Net;
using DiffusionGrpc.Server.Services;
using Grpc.AspNetCore.Web;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.FileProviders;

namespace DiffusionGrpc.Server.Hosting;

/// <summary>
/// The host's side for browsers and plain HTTP clients: a second listener that speaks HTTP/1.1
/// (<c>Diffusion:WebUrls</c>) next to the h2c gRPC one, gRPC-Web, the JSON API (<c>/v1/...</c>) and the web
/// page at <c>/</c>. gRPC without TLS needs a listener that speaks HTTP/2 only, browsers need HTTP/1.1:
/// hence two ports.
/// </summary>
public static class WebFrontend
{
    /// <summary>The configuration key of the HTTP/1.1 URL(s), separated by <c>;</c>; unset = no HTTP/1.1 listener.</summary>
    public const string WebUrlsKey = "Diffusion:WebUrls";

    /// <summary>
    /// When <c>Diffusion:WebUrls</c> is set, binds Kestrel explicitly: the <c>urls</c> setting (default
    /// <c>http://localhost:5000</c>) as HTTP/2 only, the web URLs as HTTP/1.1. Otherwise leaves binding alone.
    /// </summary>
    internal static void ConfigureListeners(WebApplicationBuilder builder)
    {
        var webUrls = SplitUrls(builder.Configuration[WebUrlsKey]);
        var listeners = new WebListeners();
        builder.Services.AddSingleton(listeners);
        if (webUrls.Count == 0)
        {
            return;
        }
        var grpcUrls = SplitUrls(builder.Configuration[WebHostDefaults.ServerUrlsKey]);
        if (grpcUrls.Count == 0)
        {
            grpcUrls = ["http://localhost:5000"];
        }
        // The listeners below replace the urls setting: drop the hosting addresses before Kestrel binds, or it
        // warns that it overrides them.
        builder.Services.AddSingleton<IStartupFilter, ClearHostingAddresses>();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            foreach (var url in grpcUrls)
            {
                Listen(kestrel, url, HttpProtocols.Http2, null);
            }
            foreach (var url in webUrls)
            {
                Listen(kestrel, url, HttpProtocols.Http1, listeners);
            }
        });
    }

    /// <summary>
    /// JSON transcoding options: 64-bit integers as strings (proto3 JSON; JavaScript numbers lose seeds above
    /// 2^53), and error details (google.rpc.BadRequest and friends) written as JSON.
    /// </summary>
    internal static void ConfigureJsonTranscoding(Microsoft.AspNetCore.Grpc.JsonTranscoding.GrpcJsonTranscodingOptions options)
    {
        options.JsonSettings.WriteInt64sAsStrings = true;
        options.TypeRegistry = Google.Protobuf.Reflection.TypeRegistry.FromFiles(Google.Rpc.ErrorDetailsReflection.Descriptor);
    }

    /// <summary>gRPC-Web for every service, the JSON routes of Generation and the embedded web page.</summary>
    internal static void Map(WebApplication app, ServiceRoles roles)
    {
        app.UseGrpcWeb(new GrpcWebOptions { DefaultEnabled = true });
        if (!roles.HasFlag(ServiceRoles.Generation))
        {
            return;
        }
        app.MapGrpcService<GenerationHttpService>();
        var files = new ManifestEmbeddedFileProvider(typeof(WebFrontend).Assembly, "wwwroot");
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions { FileProvider = files });
        var web = app.Services.GetRequiredService<WebListeners>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(WebFrontend));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            foreach (var address in web.Addresses)
            {
                logger.LogInformation("Web page, JSON API (/v1/generate, /v1/models) and gRPC-Web on {Address} (HTTP/1.1)", address);
            }
        });
    }

    /// <summary>
    /// Starts a host with a free loopback port for gRPC (h2c) and another for browsers (HTTP/1.1), and
    /// returns it with both addresses.
    /// </summary>
    public static async Task<(WebApplication App, string GrpcAddress, string WebAddress)> StartOnLoopbackAsync(IEnumerable<string> args, Action<WebApplicationBuilder>? configure = null, CancellationToken cancellationToken = default)
    {
        var app = DiffusionHost.Create(["--urls", "http://127.0.0.1:0", $"--{WebUrlsKey}=http://127.0.0.1:0", .. args], configure);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var all = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
        var web = app.Services.GetRequiredService<WebListeners>().Addresses;
        return (app, all.First(a => !web.Contains(a)), web[0]);
    }

    private static void Listen(KestrelServerOptions kestrel, string url, HttpProtocols protocols, WebListeners? record)
    {
        var address = BindingAddress.Parse(url);
        void Configure(ListenOptions listen)
        {
            listen.Protocols = protocols;
            if (string.Equals(address.Scheme, "https", StringComparison.OrdinalIgnoreCase))
            {
                listen.UseHttps();
            }
            record?.Add(listen, address.Scheme);
        }
        var host = address.Host.Trim('[', ']');
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            kestrel.ListenLocalhost(address.Port, Configure);
        }
        else if (IPAddress.TryParse(host, out var ip))
        {
            kestrel.Listen(ip, address.Port, Configure);
        }
        else
        {
            // "*", "+" or a host name: every interface, as Kestrel does for such URLs.
            kestrel.ListenAnyIP(address.Port, Configure);
        }
    }

    private static List<string> SplitUrls(string? urls) =>
        (urls ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}

/// <summary>The HTTP/1.1 listeners of the host (empty when <c>Diffusion:WebUrls</c> is unset).</summary>
public sealed class WebListeners
{
    private readonly List<(ListenOptions Listen, string Scheme)> _listeners = [];

    internal void Add(ListenOptions listen, string scheme)
    {
        lock (_listeners)
        {
            _listeners.Add((listen, scheme));
        }
    }

    /// <summary>Their addresses, with the ports actually bound once the host has started.</summary>
    public IReadOnlyList<string> Addresses
    {
        get
        {
            lock (_listeners)
            {
                return _listeners.Select(l => l.Listen.IPEndPoint is { } endpoint
                    ? $"{l.Scheme}://{(endpoint.Address.Equals(IPAddress.IPv6Any) ? "[::]" : endpoint.ToString())}"
                    : $"{l.Scheme}://localhost").ToList();
            }
        }
    }
}

/// <summary>Empties the hosting addresses (the urls setting) once they are read: explicit listeners take their place.</summary>
internal sealed class ClearHostingAddresses : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.ServerFeatures.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses.Clear();
        next(app);
    };
}
