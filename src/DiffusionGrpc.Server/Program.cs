using DiffusionGrpc.Server.Hosting;

// The DiffusionGrpc host: every role by default, configured the ASP.NET Core way.
var app = DiffusionHost.Create(args);
app.Run();
