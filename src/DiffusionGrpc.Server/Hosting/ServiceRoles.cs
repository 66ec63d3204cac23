namespace DiffusionGrpc.Server.Hosting;

/// <summary>The services a host can serve (<c>Diffusion:Roles</c>).</summary>
[Flags]
public enum ServiceRoles
{
    /// <summary>None.</summary>
    None = 0,
    /// <summary>TextEncoder.Encode.</summary>
    TextEncoder = 1,
    /// <summary>Denoiser.Denoise.</summary>
    Denoiser = 2,
    /// <summary>VaeDecoder.Decode.</summary>
    VaeDecoder = 4,
    /// <summary>Generation.Generate and ListModels (the orchestrator).</summary>
    Generation = 8,
    /// <summary>Every role (the default).</summary>
    All = TextEncoder | Denoiser | VaeDecoder | Generation,
}

/// <summary>Parses role lists.</summary>
public static class ServiceRolesParser
{
    /// <summary>Parses entries such as <c>["TextEncoder", "Denoiser"]</c> or <c>["TextEncoder,Denoiser"]</c>; empty = all.</summary>
    public static ServiceRoles Parse(IEnumerable<string> entries)
    {
        var roles = ServiceRoles.None;
        foreach (var entry in entries)
        {
            foreach (var name in entry.Split([',', ';', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse<ServiceRoles>(name, ignoreCase: true, out var role) || role == ServiceRoles.None)
                {
                    throw new InvalidOperationException($"Diffusion:Roles: unknown role '{name}' (allowed: TextEncoder, Denoiser, VaeDecoder, Generation, All).");
                }
                roles |= role;
            }
        }
        return roles == ServiceRoles.None ? ServiceRoles.All : roles;
    }
}

/// <summary>The roles this host serves, as a service for dependency injection.</summary>
/// <param name="Roles">The roles.</param>
public sealed record HostRoles(ServiceRoles Roles)
{
    /// <summary>True when the host serves <paramref name="role"/>.</summary>
    public bool Serves(ServiceRoles role) => Roles.HasFlag(role);
}
