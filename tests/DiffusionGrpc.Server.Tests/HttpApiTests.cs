using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Server.Hosting;
using Google.Protobuf;
using Grpc.Net.Client;
using Grpc.Net.Client.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace DiffusionGrpc.Server.Tests;

/// <summary>
/// The host's side for browsers and plain HTTP: JSON transcoding (<c>POST /v1/generate</c> as
/// newline-delimited JSON, <c>GET /v1/models</c>), gRPC-Web and the web page, on the HTTP/1.1 listener
/// (<c>Diffusion:WebUrls</c>) next to the h2c one.
/// </summary>
public sealed class HttpApiTests(WebServer fixture) : IClassFixture<WebServer>
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Models_lists_the_models_and_the_default_one_as_json()
    {
        using var response = await Http.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var models = Parser.Parse<ListModelsResponse>(await response.Content.ReadAsStringAsync());
        Assert.Equal("tiny-fp32", models.DefaultModel);
        var fp32 = Assert.Single(models.Models, m => m.Id == "tiny-fp32");
        Assert.Equal(64, fp32.DefaultWidth);
        Assert.Equal(SchedulerKind.Lms, fp32.DefaultScheduler);
    }

    [Fact]
    public async Task Generate_streams_one_json_update_per_line_with_previews_then_the_png()
    {
        using var response = await PostGenerateAsync("""{"prompt":"a red circle","steps":5,"seed":"3","width":48,"height":32}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var updates = lines.Select(Parser.Parse<GenerateUpdate>).ToList();
        var steps = updates.Where(u => u.Step is not null).Select(u => u.Step).ToList();
        Assert.Equal(Enumerable.Range(1, 5), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal("image/jpeg", Assert.Single(s.Previews).MimeType));
        var result = updates[^1].Result;
        Assert.NotNull(result);
        Assert.Contains("\"seed\":\"3\"", lines[^1], StringComparison.Ordinal); // 64-bit integers as JSON strings
        var image = Assert.Single(result.Images);
        Assert.Equal(3UL, image.Seed);
        using var png = SixLabors.ImageSharp.Image.Load(image.Data.Span);
        Assert.Equal((48, 32), (png.Width, png.Height));
        Assert.Equal("tiny-fp32", result.Resolved.Model);

        // The same request over gRPC gives the same image: one pipeline behind both.
        var grpc = new List<GenerateUpdate>();
        await foreach (var update in fixture.Client.GenerateAsync(Parser.Parse<GenerateRequest>("""{"prompt":"a red circle","steps":5,"seed":"3","width":48,"height":32}""")))
        {
            grpc.Add(update);
        }
        Assert.Equal(image.Data, grpc[^1].Result.Images[0].Data);
    }

    [Fact]
    public async Task Bad_input_is_400_with_the_status_and_bad_request_details_as_json()
    {
        using var response = await PostGenerateAsync("""{"prompt":"x","width":12}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, body.RootElement.GetProperty("code").GetInt32());
        Assert.Contains("width", body.RootElement.GetProperty("message").GetString());
        var detail = body.RootElement.GetProperty("details")[0];
        Assert.Equal("type.googleapis.com/google.rpc.BadRequest", detail.GetProperty("@type").GetString());
        Assert.Equal("width", detail.GetProperty("fieldViolations")[0].GetProperty("field").GetString());
    }

    [Fact]
    public async Task Unknown_model_is_404()
    {
        using var response = await PostGenerateAsync("""{"prompt":"x","model":"no-such-model"}""");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Closing_the_response_cancels_the_generation_on_the_server()
    {
        const string Line = "GenerationHttp/Generate stopped: cancelled by the client";
        int before = fixture.Logs.Lines.Count(l => l.Contains(Line, StringComparison.Ordinal));
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/generate")
        {
            Content = new StringContent("""{"prompt":"a long run","steps":1000,"preview":{"kind":"VAE","format":"PNG"}}""", Encoding.UTF8, "application/json"),
        })
        // A browser's abort: the connection closes (no draining of the rest of the response for reuse).
        using (var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = Http.BaseAddress })
        using (var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            for (int steps = 0; steps < 3;)
            {
                var line = await reader.ReadLineAsync();
                Assert.NotNull(line);
                if (line.StartsWith("{\"step\"", StringComparison.Ordinal))
                {
                    steps++;
                }
            }
        }
        var clock = Stopwatch.StartNew();
        while (fixture.Logs.Lines.Count(l => l.Contains(Line, StringComparison.Ordinal)) <= before)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), "the server did not log the cancellation");
            await Task.Delay(20);
        }
        // The denoiser is free: the next request is not queued.
        using var next = await PostGenerateAsync("""{"prompt":"x","steps":2,"preview":{"kind":"NONE"}}""");
        var text = await next.Content.ReadAsStringAsync();
        Assert.DoesNotContain("\"queued\"", text);
        Assert.Contains("\"result\"", text);
    }

    [Fact]
    public async Task Grpc_web_over_http1_streams_generate_and_lists_models()
    {
        using var channel = GrpcChannel.ForAddress(fixture.WebAddress, new GrpcChannelOptions
        {
            HttpHandler = new GrpcWebHandler(GrpcWebMode.GrpcWebText, new SocketsHttpHandler()),
            HttpVersion = HttpVersion.Version11,
            HttpVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            MaxReceiveMessageSize = 64 << 20,
        });
        var client = new Generation.GenerationClient(channel);
        var models = await client.ListModelsAsync(new ListModelsRequest());
        Assert.Equal("tiny-fp32", models.DefaultModel);
        using var call = client.Generate(new GenerateRequest { Prompt = "a red circle", Steps = 3, Seed = 1 });
        var updates = new List<GenerateUpdate>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None))
        {
            updates.Add(call.ResponseStream.Current);
        }
        Assert.Equal(3, updates.Count(u => u.Step is not null));
        Assert.Equal("image/png", updates[^1].Result.Images[0].MimeType);
    }

    [Fact]
    public async Task The_page_and_its_assets_are_served_at_the_root()
    {
        using var page = await Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<title>DiffusionGrpc</title>", html);
        Assert.DoesNotContain("https://", html); // nothing from outside the machine
        foreach (var (path, type) in new[] { ("/app.js", "text/javascript"), ("/style.css", "text/css") })
        {
            using var asset = await Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Equal(type, asset.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task The_grpc_port_stays_http2_only()
    {
        using var http1 = new HttpClient { BaseAddress = new Uri(fixture.GrpcAddress), DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        // Kestrel answers an HTTP/1.1 request on an HTTP/2-only listener with 400 and closes the connection.
        using (var refused = await http1.GetAsync("/v1/models"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        }
        // HTTP/2 with prior knowledge (what gRPC clients speak) is served there.
        using var http2 = new HttpClient { BaseAddress = new Uri(fixture.GrpcAddress), DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await http2.GetAsync("/v1/models");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostGenerateAsync(string json) =>
        Http.PostAsync("/v1/generate", new StringContent(json, Encoding.UTF8, "application/json"));
}

/// <summary>A host over the fixture models with both listeners (h2c gRPC and HTTP/1.1), shared by a test class.</summary>
public sealed class WebServer : IAsyncLifetime
{
    private WebApplication _app = null!;
    private GrpcChannel _channel = null!;

    /// <summary>The h2c gRPC address.</summary>
    public string GrpcAddress { get; private set; } = "";

    /// <summary>The HTTP/1.1 address (JSON, gRPC-Web, the page).</summary>
    public string WebAddress { get; private set; } = "";

    /// <summary>An HTTP/1.1 client of <see cref="WebAddress"/>.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The SDK client over the gRPC address.</summary>
    public DiffusionGrpc.Client.DiffusionClient Client { get; private set; } = null!;

    /// <summary>The host's log lines.</summary>
    public LogCollector Logs { get; } = new();

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        string[] args = [$"--Diffusion:ModelsPath={TestPaths.FixtureModels}", "--Diffusion:ExecutionProvider=cpu", "--Diffusion:DefaultModel=tiny-fp32"];
        (_app, GrpcAddress, WebAddress) = await WebFrontend.StartOnLoopbackAsync(args, builder =>
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddProvider(Logs);
        });
        Http = new HttpClient { BaseAddress = new Uri(WebAddress), Timeout = TimeSpan.FromMinutes(2) };
        _channel = GrpcChannel.ForAddress(GrpcAddress, new GrpcChannelOptions { MaxReceiveMessageSize = 64 << 20 });
        Client = new DiffusionGrpc.Client.DiffusionClient(_channel);
        var until = DateTime.UtcNow.AddSeconds(60);
        var health = new Grpc.Health.V1.Health.HealthClient(_channel);
        while ((await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest())).Status != Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving)
        {
            Assert.True(DateTime.UtcNow < until, "the host did not report SERVING within 60 s");
            await Task.Delay(50);
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        Http.Dispose();
        _channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
