// Spec section 1.5: KILL_REQ's OK/NO rules, relaxed mode, and the daemon's exit status 0.
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class KillTests
{
    private static void AssertExitsWithZero(DaemonProcess d) =>
        Assert.That(d.WaitExit(TimeSpan.FromSeconds(5)), Is.EqualTo(0), "KILL ends the daemon with status 0");

    [Test]
    public void KillWithNoNodesStopsTheDaemon()
    {
        using var d = Start();
        AssertHex(Query(d, "00 01 6b"), "4f 4b");
        AssertExitsWithZero(d);
    }

    [Test]
    public void OnlyTheTagMatters()
    {
        using var d = Start();
        AssertHex(Query(d, "00 05 6b 6a 75 6e 6b"), "4f 4b");
        AssertExitsWithZero(d);
    }

    [Test]
    public void NoLiveKilling()
    {
        using var d = Start();
        var node = Register(d, "foo");
        AssertHex(Query(d, "00 01 6b"), "4e 4f");
        // STOP without relaxed mode: a silent close.
        AssertSilentClose(d, "00 04 73 66 6f 6f");
        Assert.That(IsRegistered(d, "foo"), Is.True);
        node.Dispose();
        WaitUnregistered(d, "foo");
        AssertHex(Query(d, "00 01 6b"), "4f 4b");
        AssertExitsWithZero(d);
    }

    [Test]
    public void RefusedKillLeavesDaemonAndNodeRunning()
    {
        using var d = Start();
        using var node = Register(d, "foo", 1042);
        AssertHex(Query(d, "00 01 6b"), "4e 4f");
        Assert.That(d.WaitExit(TimeSpan.FromMilliseconds(300)), Is.Null, "the daemon keeps running");
        Assert.That(Names(d), Is.EqualTo("name foo at port 1042\n"));
        Assert.That(node.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    [Test]
    public void RelaxedKillWithLiveNodeClosesItsSocketAndExits()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 01 6b"), "4f 4b");
        AssertClosedSilently(node, TimeSpan.FromSeconds(3));
        AssertExitsWithZero(d);
    }

    [TestCase("", TestName = "RelaxedByEnvironmentKillsWithLiveNode(empty value)")]
    [TestCase("0", TestName = "RelaxedByEnvironmentKillsWithLiveNode(value 0)")]
    public void RelaxedByEnvironmentKillsWithLiveNode(string value)
    {
        using var d = StartWithEnv(new Dictionary<string, string?> { ["ERL_EPMD_RELAXED_COMMAND_CHECK"] = value });
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 01 6b"), "4f 4b");
        AssertClosedSilently(node, TimeSpan.FromSeconds(3));
        AssertExitsWithZero(d);
    }

    [Test]
    public void FailedRegistrationDoesNotCountAsLiveNode()
    {
        using var d = Start();
        var owner = Register(d, "foo");
        using var dup = SendAlive(d, Requests.Alive("foo"), 6, out var reply);
        AssertHex(reply, "76 01 00 00 00 63");
        owner.Dispose();
        WaitUnregistered(d, "foo");
        // Only the failed-ALIVE connection is left: it is not a live node.
        AssertHex(Query(d, "00 01 6b"), "4f 4b");
        AssertClosedSilently(dup, TimeSpan.FromSeconds(3));
        AssertExitsWithZero(d);
    }

    [Test]
    public void KillOverIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        AssertHex(Query(d, Hex.Parse("00 01 6b"), host: "::1"), "4f 4b");
        AssertExitsWithZero(d);
    }
}
