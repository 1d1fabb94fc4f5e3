// The pause schedule of a listener whose accept keeps failing, and its log rate.
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;

namespace FastEpmd.Tests.Unit.Loop;

public class ListenerBackoffTests
{
    [Test]
    public void Delay_doubles_from_10_ms_to_1_s()
    {
        var b = new ListenerBackoff();
        var delays = new List<long>();
        long now = 0;
        for (int i = 0; i < 10; i++)
        {
            b.Fail(now, out _);
            delays.Add(b.ResumeAtMs - now);
            now = b.ResumeAtMs;
            Assert.That(b.TryResume(now), Is.True);
        }
        Assert.That(delays, Is.EqualTo(new long[] { 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000 }));
    }

    [Test]
    public void Success_resets_to_the_first_delay()
    {
        var b = new ListenerBackoff();
        for (int i = 0; i < 5; i++) b.Fail(i * 1000, out _);
        Assert.That(b.NextDelayMs, Is.EqualTo(320));
        b.Succeeded();
        b.Fail(10_000, out _);
        Assert.That(b.ResumeAtMs, Is.EqualTo(10_010));
    }

    [Test]
    public void Paused_until_the_resume_time()
    {
        var b = new ListenerBackoff();
        Assert.That(b.Paused, Is.False);
        Assert.That(b.TryResume(0), Is.False);
        b.Fail(100, out _);
        Assert.That(b.Paused, Is.True);
        Assert.That(b.TryResume(109), Is.False);
        Assert.That(b.TryResume(110), Is.True);
        Assert.That(b.Paused, Is.False);
        Assert.That(b.TryResume(200), Is.False, "resumes once");
    }

    [Test]
    public void At_most_one_log_line_a_second_with_the_count()
    {
        var b = new ListenerBackoff();
        var lines = new List<(long At, int Count)>();
        // A failure every 10 ms for 3 s (as if the backoff were reset by the odd success).
        for (long now = 0; now < 3000; now += 10)
        {
            if (b.Fail(now, out int count)) lines.Add((now, count));
        }
        Assert.That(lines, Is.EqualTo(new[] { (0L, 1), (1000L, 100), (2000L, 100) }));
    }
}
