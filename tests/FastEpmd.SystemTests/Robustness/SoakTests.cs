// The suite's soak: one minute of churn, queries and faults (RSTs, garbage frames, half-open
// connections, slow readers) against the daemon, every reply byte-checked (SoakRunner, shared with
// `./build.sh soak MINUTES`). FASTEPMD_SOAK_SECONDS shortens or lengthens it.
namespace FastEpmd.SystemTests.Robustness;

// Floods and exhaustion are machine-wide: these fixtures never share the machine with other tests.
[NonParallelizable]
public class SoakTests : RobustnessFixture
{
    /// <summary>RSS may settle a little above the warm-up baseline (GC heap, allocator); more is a leak.</summary>
    private const long RssToleranceBytes = 4L * 1024 * 1024;

    [Test]
    public void OneMinuteOfChurnQueriesAndFaultsLeavesNoTrace()
    {
        int seconds = int.TryParse(Environment.GetEnvironmentVariable("FASTEPMD_SOAK_SECONDS"), out var s) && s > 0 ? s : 60;
        var options = new SoakOptions { Duration = TimeSpan.FromSeconds(seconds) };
        var daemon = Track(SoakOptions.StartDaemon(Binaries.FastEpmd, options));
        var report = new SoakRunner(daemon, options, Log).Run();

        Assert.Multiple(() =>
        {
            Assert.That(report.Problems, Is.Empty);
            Assert.That(report.WrongReplies, Is.Zero, "wrong replies");
            Assert.That(report.LostRegistrations, Is.Zero, "lost long-lived registrations");
            Assert.That(report.LeftoverRegistrations, Is.Zero, "churned registrations left behind");
            Assert.That(report.Operations, Is.GreaterThan(seconds * 200), "the soak did real work");
            Assert.That(report.FdsAfter, Is.EqualTo(report.FdsBaseline), "descriptors back to baseline");
            Assert.That(report.RssAfter, Is.LessThanOrEqualTo(report.RssBaseline + RssToleranceBytes), "RSS back to baseline");
        });
    }
}
