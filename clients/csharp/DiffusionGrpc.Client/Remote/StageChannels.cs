using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Net.Client.Balancer;
using Grpc.Net.Client.Configuration;

namespace DiffusionGrpc.Client.Remote;

/// <summary>Creates gRPC channels to stage services: one address directly, several with client-side round robin.</summary>
public static class StageChannels
{
    /// <summary>Messages up to this size are accepted by default (the services' own default limit).</summary>
    public const int DefaultMaxMessageBytes = 64 * 1024 * 1024;

    /// <summary>Creates a channel to <paramref name="addresses"/> (http:// for h2c, https:// for TLS).</summary>
    /// <param name="addresses">One or more addresses of equivalent servers.</param>
    /// <param name="maxMessageBytes">Largest message sent or received.</param>
    public static GrpcChannel Create(IReadOnlyList<Uri> addresses, int maxMessageBytes = DefaultMaxMessageBytes)
    {
        if (addresses.Count == 0)
        {
            throw new ArgumentException("At least one address is needed.", nameof(addresses));
        }
        var options = new GrpcChannelOptions
        {
            MaxReceiveMessageSize = maxMessageBytes,
            MaxSendMessageSize = maxMessageBytes,
        };
        if (addresses.Count == 1)
        {
            return GrpcChannel.ForAddress(addresses[0], options);
        }

        bool tls = addresses[0].Scheme == Uri.UriSchemeHttps;
        var endpoints = addresses.Select(a => new BalancerAddress(a.Host, a.Port)).ToArray();
        options.Credentials = tls ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
        options.ServiceConfig = new ServiceConfig { LoadBalancingConfigs = { new RoundRobinConfig() } };
        options.ServiceProvider = new SingleServiceProvider(new StaticResolverFactory(_ => endpoints));
        return GrpcChannel.ForAddress("static:///stage", options);
    }

    /// <summary>Parses a comma- or semicolon-separated list of addresses.</summary>
    public static IReadOnlyList<Uri> ParseAddresses(string addresses) =>
        addresses.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(a => new Uri(a, UriKind.Absolute)).ToArray();

    /// <summary>The one service the channel asks for: the resolver factory of the addresses.</summary>
    private sealed class SingleServiceProvider(ResolverFactory factory) : IServiceProvider
    {
        public object? GetService(Type serviceType) =>
            serviceType == typeof(ResolverFactory) ? factory
            : serviceType == typeof(IEnumerable<ResolverFactory>) ? new[] { factory }
            : null;
    }
}
