// Seeded, bounded fuzzing of the request path in process: mutated and random frames, whole or split
// into arrivals, through Frame.TryRead and EpmdService.Handle. Nothing may throw, every reply must
// follow the spec and the registry invariants must hold after every connection.
using FastEpmd.Fuzzing;

namespace FastEpmd.Tests.Fuzz;

[TestFixture]
public class DecoderFuzzTests
{
    private const int FramesPerConfiguration = 50_000;

    [TestCase(20260101, false, false)]
    [TestCase(20260102, true, false)]
    [TestCase(20260103, true, true)]
    [TestCase(20260104, false, true)]
    public void MutatedFramesNeverBreakTheRegistry(int seed, bool relaxed, bool debug)
    {
        var frames = new FuzzCorpus(seed);
        var harness = new DecoderHarness(seed, relaxed, debug);
        for (int i = 0; i < FramesPerConfiguration; i++)
        {
            byte[] frame = frames.Next();
            int maxChunk = frames.Random.Next(10) < 7 ? 0 : 1 + frames.Random.Next(16);
            try
            {
                harness.Connection(frame, maxChunk);
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} frame {i} (relaxed={relaxed}, debug={debug}, maxChunk={maxChunk}): {Hex.Format(frame)}\n{e}");
            }
        }
        harness.CloseAll();
        harness.CheckInvariants();

        TestContext.Out.WriteLine($"seed {seed}: {harness.Connections} frames, {harness.Requests} complete requests, " +
            $"{harness.Invalid} invalid, {harness.Partial} partial, {harness.Silent} silent, {harness.Registrations} registrations, " +
            $"{harness.Refusals} refused, {harness.Takeovers} dead-owner takeovers, {harness.Stops} stops, {harness.Kills} kills");
        // The corpus must reach the deep paths, or the run proves little.
        Assert.That(harness.Connections, Is.EqualTo(FramesPerConfiguration));
        Assert.That(harness.Registrations, Is.GreaterThan(500));
        Assert.That(harness.Refusals, Is.GreaterThan(100));
        Assert.That(harness.Takeovers, Is.GreaterThan(10));
        Assert.That(harness.Invalid, Is.GreaterThan(100));
        if (relaxed) Assert.That(harness.Stops, Is.GreaterThan(10));
        Assert.That(harness.Kills, Is.GreaterThan(0));
    }

    [Test]
    public void CoverageHarnessEntryPointReplaysTheCorpus()
    {
        var seeds = FuzzCorpus.Seeds().ToArray();
        foreach (var seed in seeds) DecoderHarness.RunOne(seed);
        DecoderHarness.RunOne(seeds.SelectMany(s => s).ToArray());
        DecoderHarness.RunOne(ReadOnlySpan<byte>.Empty);
    }
}
