using System.Numerics.Tensors;

namespace DiffusionGrpc.Core.Schedulers;

/// <summary>Element-wise pieces of the step arithmetic shared by several schedulers, in float32 as torch does it.</summary>
internal static class StepMath
{
    /// <summary>
    /// x0 of a sigma scheduler (LMS, Euler, Euler ancestral): ε → x − σ·ε; v → v·(−σ/√(σ²+1)) + x/(σ²+1);
    /// sample → the model output.
    /// </summary>
    public static void SigmaPredictOriginal(PredictionType prediction, float sigma, ReadOnlySpan<float> modelOutput,
        ReadOnlySpan<float> sample, Span<float> x0)
    {
        switch (prediction)
        {
            case PredictionType.Epsilon:
                TensorPrimitives.Multiply(modelOutput, sigma, x0);
                TensorPrimitives.Subtract(sample, x0, x0);
                break;
            case PredictionType.VPrediction:
            {
                float s2 = sigma * sigma + 1f;
                float c = -sigma / MathF.Sqrt(s2);
                for (int i = 0; i < x0.Length; i++) x0[i] = modelOutput[i] * c + sample[i] / s2;
                break;
            }
            default:
                modelOutput.CopyTo(x0);
                break;
        }
    }

    /// <summary>
    /// x0 and ε of an ᾱ scheduler (DDIM, LCM, previews of PNDM) from sqrt(ᾱ) and sqrt(1−ᾱ) (float32):
    /// ε → (x − √β·ε)/√ᾱ; v → √ᾱ·x − √β·v; sample → the model output.
    /// </summary>
    public static void AlphaPredictOriginal(PredictionType prediction, float sqrtAlpha, float sqrtBeta,
        ReadOnlySpan<float> modelOutput, ReadOnlySpan<float> sample, Span<float> x0)
    {
        switch (prediction)
        {
            case PredictionType.Epsilon:
                for (int i = 0; i < x0.Length; i++) x0[i] = (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha;
                break;
            case PredictionType.VPrediction:
                for (int i = 0; i < x0.Length; i++) x0[i] = sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
                break;
            default:
                modelOutput.CopyTo(x0);
                break;
        }
    }

    /// <summary>torch's <c>clamp(-range, range)</c>.</summary>
    public static void Clamp(Span<float> x, float range)
    {
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = v < -range ? -range : v > range ? range : v;
        }
    }
}
