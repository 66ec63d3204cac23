using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Reflection.V1Alpha;

namespace DiffusionGrpc.Server.Tests;

/// <summary>What tools see of a host: gRPC health and server reflection (grpcurl needs no proto files).</summary>
public sealed class HostTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    private LoopbackServer Server => fixture.Server;

    [Fact]
    public async Task Health_reports_serving_once_models_are_loaded()
    {
        var health = new Health.HealthClient(Server.Channel);
        var reply = await health.CheckAsync(new HealthCheckRequest());
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, reply.Status);
        Assert.Contains(Server.Logs.Lines, l => l.Contains("model(s) ready", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reflection_lists_every_service_and_resolves_their_messages()
    {
        var reflection = new ServerReflection.ServerReflectionClient(Server.Channel);
        using var call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext());
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        foreach (var name in new[] { "diffusion.v1.Generation", "diffusion.v1.TextEncoder", "diffusion.v1.Denoiser", "diffusion.v1.VaeDecoder", "grpc.health.v1.Health" })
        {
            Assert.Contains(name, services);
        }

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = "diffusion.v1.GenerateRequest" });
        Assert.True(await call.ResponseStream.MoveNext());
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto
            .Select(bytes => Google.Protobuf.Reflection.FileDescriptorProto.Parser.ParseFrom(bytes)).ToList();
        var generation = Assert.Single(files, f => f.Name == "diffusion/v1/generation.proto");
        Assert.Contains(generation.MessageType, m => m.Name == "GenerateRequest");
        await call.RequestStream.CompleteAsync();
    }
}
