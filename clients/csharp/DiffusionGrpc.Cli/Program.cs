using System.CommandLine;
using DiffusionGrpc.Cli;

var address = new Option<string?>("--address", "-a")
{
    Description = "Server address (e.g. http://127.0.0.1:5000); absent = start a server in this process.",
    Recursive = true,
};
var host = new Option<string[]>("--host-option")
{
    Description = "Configuration of the in-process server as Key=Value, e.g. --host-option Diffusion:ModelsPath=DIR.",
    Recursive = true,
    AllowMultipleArgumentsPerToken = true,
};
var root = new RootCommand("DiffusionGrpc command line: Stable Diffusion over gRPC.")
{
    address,
    host,
};
root.Subcommands.Add(GenerateCommand.Create(address, host));
root.Subcommands.Add(ModelsCommand.Create(address, host));
return await root.Parse(args).InvokeAsync();
