// Spec section 1.4: DUMP_REQ lines, NUL terminators, and the remembered (old/unused) names.
using System.Text;
using System.Text.RegularExpressions;
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class DumpTests
{
    /// <summary>DUMP: checks the configured-port header and returns the raw text after it (NULs kept).</summary>
    private static string Dump(DaemonProcess d, string host = "127.0.0.1")
    {
        var data = Query(d, Hex.Parse("00 01 64"), host: host);
        Assert.That(data.Length, Is.GreaterThanOrEqualTo(4));
        Assert.That(Hex.Format(data.AsSpan(0, 4)), Is.EqualTo(Hex.Format(BigEndian32((uint)d.Port))));
        return Encoding.UTF8.GetString(data, 4, data.Length - 4);
    }

    [Test]
    public void EmptyDumpIsJustTheHeader()
    {
        using var d = Start();
        AssertHex(Query(d, "00 01 64"), Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void ActiveNodesNewestFirstWithNulTerminators()
    {
        using var d = Start();
        using var foo = Register(d, "foo", 1042);
        using var bar = Register(d, "bar", 2000);
        Assert.That(NormaliseFds(Dump(d)), Is.EqualTo(
            "active name     <bar> at port 2000, fd = F\n\0" +
            "active name     <foo> at port 1042, fd = F\n\0"));
    }

    [Test]
    public void OldUnusedNamesOldestFirstAfterActive()
    {
        using var d = Start();
        var a = Register(d, "a", 1);
        var b = Register(d, "b", 2);
        a.Dispose();
        WaitUnregistered(d, "a");
        b.Dispose();
        WaitUnregistered(d, "b");
        using var c = Register(d, "c", 3);
        Assert.That(NormaliseFds(Dump(d)), Is.EqualTo(
            "active name     <c> at port 3, fd = F\n\0" +
            "old/unused name <a>, port = 1, fd = F \n\0" +
            "old/unused name <b>, port = 2, fd = F \n\0"));
    }

    [Test]
    public void OldUnusedLineKeepsTheStaleFd()
    {
        using var d = Start();
        var a = Register(d, "a", 1);
        var active = Regex.Match(Dump(d), "^active name     <a> at port 1, fd = ([0-9]+)\n\0$");
        Assert.That(active.Success, Is.True, "active line format");
        a.Dispose();
        WaitUnregistered(d, "a");
        Assert.That(Dump(d), Is.EqualTo($"old/unused name <a>, port = 1, fd = {active.Groups[1].Value} \n\0"));
    }

    [Test]
    public void ReRegisteredNameLeavesTheRememberedList()
    {
        using var d = Start();
        var a = Register(d, "a", 1);
        a.Dispose();
        WaitUnregistered(d, "a");
        using var a2 = Register(d, "a", 5);
        Assert.That(NormaliseFds(Dump(d)), Is.EqualTo("active name     <a> at port 5, fd = F\n\0"));
    }

    [Test]
    public void DumpOverIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        using var foo = Register(d, "foo", 1042);
        Assert.That(NormaliseFds(Dump(d, "::1")), Is.EqualTo("active name     <foo> at port 1042, fd = F\n\0"));
    }
}
