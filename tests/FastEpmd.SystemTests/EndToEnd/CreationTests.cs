// Spec section 2.4: creation numbers (clock seed + 1, bump on re-registration, v5 = cr % 3 + 1,
// takeover of the oldest remembered record without a bump).
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class CreationTests
{
    private static byte[] AliveV6(string name) => Requests.Alive(name, 1000, hi: 6, lo: 5);

    private static byte[] AliveV5(string name) => Requests.Alive(name, 1000, hi: 5, lo: 5);

    private static void Unregister(DaemonProcess d, RawEpmdClient c, string name)
    {
        c.Dispose();
        WaitUnregistered(d, name);
    }

    [Test]
    public void CreationIsRegistrationSecondPlusOne()
    {
        using var d = Start();
        long before = NowSeconds();
        using var c = Register(d, AliveV6("foo"), out var creation);
        long after = NowSeconds();
        // time(NULL) is a coarse clock that may lag ours by a few ms at a second boundary: allow one less.
        Assert.That((long)creation, Is.InRange(before, after + 1), "a new name's creation is time(NULL) + 1");
    }

    [Test]
    public void ReRegisteringSameNameBumpsCreation()
    {
        using var d = Start();
        var c = Register(d, AliveV6("foo"), out var first);
        Unregister(d, c, "foo");
        c = Register(d, AliveV6("foo"), out var second);
        Unregister(d, c, "foo");
        using var c3 = Register(d, AliveV6("foo"), out var third);
        Assert.That(second, Is.EqualTo(first + 1));
        Assert.That(third, Is.EqualTo(first + 2));
    }

    [Test]
    public void OtherNamesDoNotShareTheBump()
    {
        using var d = Start();
        var c = Register(d, AliveV6("foo"), out var foo1);
        Unregister(d, c, "foo");
        long before = NowSeconds();
        using var bar = Register(d, AliveV6("bar"), out var barCreation);
        long after = NowSeconds();
        Assert.That((long)barCreation, Is.InRange(before, after + 1), "a brand-new name is seeded from the clock");
        using var foo = Register(d, AliveV6("foo"), out var foo2);
        Assert.That(foo2, Is.EqualTo(foo1 + 1));
    }

    [Test]
    public void V5CreationIsCrMod3Plus1AndCycles()
    {
        using var d = Start();
        var c = Register(d, AliveV6("foo"), out var cr);
        Unregister(d, c, "foo");
        var seen = new List<int>();
        for (uint k = 1; k <= 4; k++)
        {
            c = RegisterV5(d, AliveV5("foo"), out var v5);
            Assert.That(v5, Is.EqualTo((int)((cr + k) % 3 + 1)), $"re-registration {k}: v5 creation of cr {cr + k}");
            seen.Add(v5);
            Unregister(d, c, "foo");
        }
        Assert.That(seen.Take(3), Is.EquivalentTo(new[] { 1, 2, 3 }), "three consecutive v5 creations cycle through 1..3");
        // The same record registered again as v6 shows the full 32-bit counter.
        using var last = Register(d, AliveV6("foo"), out var cr5);
        Assert.That(cr5, Is.EqualTo(cr + 5));
    }

    [Test]
    public void NewNameV5CreationFollowsClock()
    {
        // Brand-new names registered in three consecutive seconds t: each gets exactly
        // (t + 1) % 3 + 1, so between them all of 1..3 appear and no constant can pass.
        using var d = Start();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            var seen = new List<(long Second, int V5)>();
            for (int i = 0; i < 3; i++)
            {
                long second = WaitForMidSecond(seen.Count == 0 ? 0 : seen[^1].Second + 1);
                using var c = RegisterV5(d, AliveV5($"v5new{attempt}x{i}"), out var v5);
                var end = DateTimeOffset.UtcNow;
                if (end.ToUnixTimeSeconds() != second || end.Millisecond > 950) break; // too slow: start again
                seen.Add((second, v5));
            }
            if (seen.Count < 3 || seen[2].Second != seen[0].Second + 2) continue;
            foreach (var (second, v5) in seen)
                Assert.That(v5, Is.EqualTo((int)((second + 1) % 3 + 1)), $"v5 creation of a new name registered in second {second}");
            Assert.That(seen.Select(x => x.V5), Is.EquivalentTo(new[] { 1, 2, 3 }));
            return;
        }
        Assert.Fail("could not register in three consecutive seconds, clear of their boundaries, in three attempts");
    }

    /// <summary>
    /// Waits until the clock is well inside a second (time(NULL) may lag ours by a few ms at a
    /// boundary) that is not earlier than notBefore; returns that second.
    /// </summary>
    private static long WaitForMidSecond(long notBefore)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(5);
        while (DateTimeOffset.UtcNow < deadline)
        {
            var now = DateTimeOffset.UtcNow;
            if (now.ToUnixTimeSeconds() >= notBefore && now.Millisecond is >= 50 and <= 600) return now.ToUnixTimeSeconds();
            Thread.Sleep(5);
        }
        throw new TimeoutException("the clock did not reach the middle of a second within 5 s");
    }

    [Test]
    public void TwoNamesInTheSameSecondShareACreation()
    {
        using var d = Start();
        for (int attempt = 0; attempt < 3; attempt++)
        {
            long before = WaitForMidSecond(0);
            using var a = Register(d, AliveV6($"a{attempt}"), out var ca);
            using var b = Register(d, AliveV6($"b{attempt}"), out var cb);
            var end = DateTimeOffset.UtcNow;
            if (end.ToUnixTimeSeconds() != before || end.Millisecond > 950) continue; // too slow: try again
            Assert.That(cb, Is.EqualTo(ca));
            Assert.That((long)ca, Is.EqualTo(before + 1));
            return;
        }
        Assert.Fail("could not register two names within one second in three attempts");
    }

    [Test]
    public void OldestRememberedRecordIsTakenOverWithoutBump()
    {
        // Any -d shrinks the remembered list to 5: with 6 remembered names, a new name takes over
        // the oldest record and inherits its creation exactly.
        using var d = Start("-d");
        var c = Register(d, AliveV6("n1"), out _);
        for (int i = 0; i < 4; i++)
        {
            Unregister(d, c, "n1");
            c = Register(d, AliveV6("n1"), out _);
        }
        Unregister(d, c, "n1");
        c = Register(d, AliveV6("n1"), out var n1Creation); // seeded + 5 bumps: far from the clock
        Unregister(d, c, "n1");
        for (int i = 2; i <= 6; i++)
        {
            var other = Register(d, AliveV6($"n{i}"), out _);
            Unregister(d, other, $"n{i}");
        }
        using var fresh = Register(d, AliveV6("fresh"), out var freshCreation);
        Assert.That(freshCreation, Is.EqualTo(n1Creation), "the evicted oldest record's creation, not bumped");
    }
}
