namespace DiffusionGrpc.Core.Imaging;

/// <summary>Encodings the service writes.</summary>
public enum EncodedImageFormat
{
    /// <summary>Lossless PNG.</summary>
    Png,
    /// <summary>JPEG.</summary>
    Jpeg,
    /// <summary>Lossy WebP.</summary>
    WebP,
}
