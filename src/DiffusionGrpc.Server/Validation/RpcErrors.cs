using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace DiffusionGrpc.Server.Validation;

/// <summary>gRPC errors with rich details (<c>google.rpc.Status</c>).</summary>
public static class RpcErrors
{
    /// <summary>INVALID_ARGUMENT with <c>google.rpc.BadRequest</c> details naming each field (proto paths).</summary>
    public static RpcException InvalidArgument(IReadOnlyList<(string Field, string Description)> violations)
    {
        var badRequest = new BadRequest();
        foreach (var (field, description) in violations)
        {
            badRequest.FieldViolations.Add(new BadRequest.Types.FieldViolation { Field = field, Description = description });
        }
        var status = new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")),
            Details = { Any.Pack(badRequest) },
        };
        return status.ToRpcException();
    }

    /// <summary>INVALID_ARGUMENT for one field.</summary>
    public static RpcException InvalidArgument(string field, string description) => InvalidArgument([(field, description)]);

    /// <summary>NOT_FOUND for a model id.</summary>
    public static RpcException ModelNotFound(string field, string id) =>
        new Google.Rpc.Status
        {
            Code = (int)Code.NotFound,
            Message = $"{field}: no model '{id}' (model ids are folder names of the models root; ListModels lists them).",
            Details = { Any.Pack(new ResourceInfo { ResourceType = "model", ResourceName = id, Description = "Unknown model." }) },
        }.ToRpcException();

    /// <summary>FAILED_PRECONDITION: the request is valid but the model cannot serve it as configured.</summary>
    public static RpcException FailedPrecondition(string message) =>
        new Google.Rpc.Status { Code = (int)Code.FailedPrecondition, Message = message }.ToRpcException();
}
