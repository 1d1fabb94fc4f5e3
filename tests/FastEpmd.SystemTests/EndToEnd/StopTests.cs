// Spec section 1.6: STOP_REQ, only in relaxed mode; STOPPED and NOEXISTSTOPPED.
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class StopTests
{
    private const string Stopped = "53 54 4f 50 50 45 44";                                   // "STOPPED"
    private const string NoExistStopped = "4e 4f 45 58 49 53 54 53 54 4f 50 50 45 44";       // "NOEXISTSTOPPED"

    [Test]
    public void UnregisterOthersName1()
    {
        using var d = Start("-relaxed_command_check");
        using var node = RegisterV5(d, Requests.Alive("foo", 1000, hi: 5, lo: 5), out _);
        using var c = d.Connect();
        c.Send("00 04 73 66 6f 6f");
        AssertHex(c.ReadExactly(7, Quick), Stopped);
        var rest = c.ReadToEnd(Quick);
        Assert.That(rest.Closed, Is.True);
        Assert.That(rest.Data, Is.Empty, "STOPPED is the whole reply");
    }

    [Test]
    public void UnregisterOthersName2()
    {
        using var d = Start("-relaxed_command_check");
        using var c = d.Connect();
        c.Send("00 06 73 78 78 78 34 32");
        AssertHex(c.ReadExactly(7, Quick), "4e 4f 45 58 49 53 54"); // "NOEXIST", all the OTP suite reads
    }

    [Test]
    public void NotFoundRepliesNoexistThenStopped()
    {
        using var d = Start("-relaxed_command_check");
        AssertHex(Query(d, "00 06 73 78 78 78 34 32"), NoExistStopped);
    }

    [Test]
    public void StopClosesTheNodesAliveSocket()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        using var other = Register(d, "bar");
        AssertHex(Query(d, "00 04 73 66 6f 6f"), Stopped);
        AssertClosedSilently(node);
        AssertHex(PortPlease(d, Hex.Ascii("foo")), "77 01");
        Assert.That(IsRegistered(d, "bar"), Is.True);
        Assert.That(other.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    [Test]
    public void StoppedNameCanRegisterAgainWithNextCreation()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, Requests.Alive("foo"), out var first);
        AssertHex(Query(d, "00 04 73 66 6f 6f"), Stopped);
        using var again = Register(d, Requests.Alive("foo"), out var second);
        Assert.That(second, Is.EqualTo(first + 1));
    }

    [Test]
    public void StopWithoutRelaxedClosesSilently()
    {
        using var d = Start();
        using var node = Register(d, "foo");
        AssertSilentClose(d, "00 04 73 66 6f 6f");
        AssertSilentClose(d, "00 06 73 78 78 78 34 32");
        Assert.That(IsRegistered(d, "foo"), Is.True);
        Assert.That(node.StaysOpenFor(TimeSpan.FromMilliseconds(100)), Is.True);
    }

    [TestCase("", TestName = "RelaxedByEnvironmentEnablesStop(empty value)")]
    [TestCase("0", TestName = "RelaxedByEnvironmentEnablesStop(value 0)")]
    public void RelaxedByEnvironmentEnablesStop(string value)
    {
        using var d = StartWithEnv(new Dictionary<string, string?> { ["ERL_EPMD_RELAXED_COMMAND_CHECK"] = value });
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 04 73 66 6f 6f"), Stopped);
        AssertClosedSilently(node);
        AssertHex(Query(d, "00 04 73 66 6f 6f"), NoExistStopped);
    }

    [Test]
    public void StopWithNoNameClosesSilently()
    {
        using var d = Start("-relaxed_command_check");
        AssertSilentClose(d, "00 01 73");
    }

    [Test]
    public void NameEndsAtTheFirstNul()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 08 73 66 6f 6f 00 78 79 7a"), Stopped);
        AssertClosedSilently(node);
    }

    [Test]
    public void EmptyNameBeforeNulIsNotFound()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 02 73 00"), NoExistStopped);
        Assert.That(IsRegistered(d, "foo"), Is.True);
    }

    [Test]
    public void NameIsNotUtf8Checked()
    {
        using var d = Start("-relaxed_command_check");
        AssertHex(Query(d, "00 03 73 ff fe"), NoExistStopped);
    }

    [Test]
    public void StopIsExactAndCaseSensitive()
    {
        using var d = Start("-relaxed_command_check");
        using var node = Register(d, "foo");
        AssertHex(Query(d, "00 04 73 46 4f 4f"), NoExistStopped);
        AssertHex(Query(d, "00 03 73 66 6f"), NoExistStopped);
        Assert.That(IsRegistered(d, "foo"), Is.True);
    }
}
