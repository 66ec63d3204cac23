using DiffusionGrpc.Client.Stages;
using Grpc.Core;

namespace DiffusionGrpc.Server.Services;

/// <summary>Carries a server call's deadline and cancellation into stage calls.</summary>
internal static class ServerCallContextExtensions
{
    /// <summary>The stage context of this call: its deadline (when set) and its cancellation token.</summary>
    public static StageCallContext ToStageContext(this ServerCallContext context) =>
        new(context.Deadline == DateTime.MaxValue ? null : context.Deadline, context.CancellationToken);
}
