using DiffusionGrpc.Contracts.V1;
using DiffusionGrpc.Evaluation;

namespace DiffusionGrpc.Server.Tests;

/// <summary>
/// The adherence evaluation's plumbing (configurations, Generate over gRPC, PNG decoding, the ONNX classifier,
/// scoring) on the fixture model, whose pictures mean nothing: what is checked is the path, not the scores.
/// </summary>
public sealed class AdherenceEvaluationTests(FixtureServer fixture) : IClassFixture<FixtureServer>
{
    [Theory]
    [InlineData("tiny-shapes", "tiny-shapes", SchedulerKind.Unspecified, 0, null)]
    [InlineData("tiny-shapes:DDIM:50", "tiny-shapes", SchedulerKind.Ddim, 50, null)]
    [InlineData("tiny-shapes-4-step:EULER_ANCESTRAL:4:1", "tiny-shapes-4-step", SchedulerKind.EulerAncestral, 4, 1f)]
    [InlineData("m:dpmpp_2m::7.5", "m", SchedulerKind.Dpmpp2M, 0, 7.5f)]
    [InlineData(":default:0:0", "", SchedulerKind.Unspecified, 0, null)]
    public void ConfigurationsParse(string text, string model, SchedulerKind scheduler, int steps, float? guidance) =>
        Assert.Equal(new EvaluationConfiguration(model, scheduler, steps, guidance), EvaluationConfiguration.Parse(text));

    [Theory]
    [InlineData("m:NOPE")]
    [InlineData("m:DDIM:x")]
    [InlineData("m:DDIM:4:1:extra")]
    public void BadConfigurationsAreRejected(string text) =>
        Assert.Throws<FormatException>(() => EvaluationConfiguration.Parse(text));

    [Fact]
    public async Task EvaluationGeneratesClassifiesAndScoresThroughTheService()
    {
        using var classifier = AttributeClassifier.Load(Path.Combine(TestPaths.ShippedModels, "evaluation"));
        var set = EvaluationSet.Load(Path.Combine(TestPaths.ShippedModels, "evaluation", EvaluationSet.FileName));
        var cases = set.Cases.Take(3).ToList();
        var evaluation = new AdherenceEvaluation(new Generation.GenerationClient(fixture.Server.Channel), classifier);

        var result = await evaluation.RunAsync(EvaluationConfiguration.Parse("tiny-fp32:DDIM:2"), cases, warmUp: 0);

        Assert.Equal("tiny-fp32", result.Resolved.Model);
        Assert.Equal(SchedulerKind.Ddim, result.Resolved.Scheduler.Kind);
        Assert.Equal(2, result.Resolved.Steps);
        Assert.Equal(3, result.Images.Count);
        Assert.All(result.Images, i => Assert.True(i.Seconds > 0));
        Assert.Equal(cases.Select(c => c.Seed), result.Images.Select(i => i.Resolved.Seed!.Value));
        Assert.Equal(["shape", "colour", "background", "position", "size"], result.Score.Attributes);
        Assert.All(result.Score.Totals, total => Assert.Equal(3, total));
        for (int i = 0; i < cases.Count; i++)
        {
            foreach (var attribute in classifier.Attributes)
            {
                Assert.Contains(result.Predictions[i][attribute.Name], attribute.Classes);
            }
        }
        foreach (var attribute in result.Score.Attributes)
        {
            int matches = Enumerable.Range(0, cases.Count).Count(i => result.Predictions[i][attribute] == cases[i].Prompt.Attributes[attribute]);
            Assert.Equal(matches, result.Score.Correct(attribute));
            Assert.Equal(100.0 * matches / 3, result.Score.Percent(attribute), 1e-9);
        }
    }
}
