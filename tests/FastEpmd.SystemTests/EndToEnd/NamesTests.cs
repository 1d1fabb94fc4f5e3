// Spec section 1.3: NAMES_REQ, its configured-port header, line format and newest-first order.
using static FastEpmd.SystemTests.EndToEnd.E2e;

namespace FastEpmd.SystemTests.EndToEnd;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class NamesTests
{
    [Test]
    public void EmptyRegistryIsJustTheHeader()
    {
        using var d = Start();
        AssertHex(Query(d, "00 01 6e"), Hex.Format(BigEndian32((uint)d.Port)));
    }

    [Test]
    public void OneNodeExactBytes()
    {
        using var d = Start();
        using var node = Register(d, Hex.Parse("00 10 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00"), out _);
        AssertHex(Query(d, "00 01 6e"),
            Hex.Format(BigEndian32((uint)d.Port)) + " " + Hex.Format(Hex.Ascii("name foo at port 1042\n")));
    }

    [Test]
    public void NewestRegistrationFirst()
    {
        using var d = Start();
        using var a = Register(d, "alpha", 1);
        using var b = Register(d, "beta", 22);
        using var c = Register(d, "gamma", 333);
        Assert.That(Names(d), Is.EqualTo("name gamma at port 333\nname beta at port 22\nname alpha at port 1\n"));
    }

    [Test]
    public void ReRegisteredNameBecomesNewest()
    {
        using var d = Start();
        var a = Register(d, "alpha", 1);
        using var b = Register(d, "beta", 2);
        a.Dispose();
        WaitUnregistered(d, "alpha");
        Assert.That(Names(d), Is.EqualTo("name beta at port 2\n"));
        using var a2 = Register(d, "alpha", 3);
        Assert.That(Names(d), Is.EqualTo("name alpha at port 3\nname beta at port 2\n"));
    }

    [Test]
    public void OnlyTheTagMatters()
    {
        using var d = Start();
        using var node = Register(d, "foo", 1042);
        AssertHex(Query(d, "00 04 6e 58 59 5a"),
            Hex.Format(BigEndian32((uint)d.Port)) + " " + Hex.Format(Hex.Ascii("name foo at port 1042\n")));
    }

    [TestCase(0)]
    [TestCase(9)]
    [TestCase(65535)]
    public void PortIsPrintedInDecimal(int port)
    {
        using var d = Start();
        using var node = Register(d, "foo", port);
        Assert.That(Names(d), Is.EqualTo($"name foo at port {port}\n"));
    }

    [Test]
    public void NameBytesAreRaw()
    {
        using var d = Start();
        using var node = Register(d, Hex.Parse("00 11 78 12 67 48 00 00 06 00 05 00 04 f0 9f 98 88 00 00"), out _);
        AssertHex(Query(d, "00 01 6e"),
            Hex.Format(BigEndian32((uint)d.Port)) + " 6e 61 6d 65 20 f0 9f 98 88 20 61 74 20 70 6f 72 74 20 34 37 31 31 0a");
    }

    [Test]
    public void HeaderIsTheConfiguredPortNotTheSocketPort()
    {
        // -port 65536+P binds P (truncated) and reports 65536+P.
        int p = Ports.Free();
        using var d = DaemonProcess.Start(Binaries.FastEpmd, new[] { "-port", (65536 + p).ToString(System.Globalization.CultureInfo.InvariantCulture) }, null, port: p);
        AssertHex(Query(d, "00 01 6e"), Hex.Format(BigEndian32((uint)(65536 + p))));
    }

    [Test]
    public void HeaderFollowsErlEpmdPort()
    {
        int p = Ports.Free();
        var env = new Dictionary<string, string?> { ["ERL_EPMD_PORT"] = p.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        using var d = DaemonProcess.Start(Binaries.FastEpmd, Array.Empty<string>(), env, port: p);
        Assert.That(Names(d, configuredPort: p), Is.Empty);
    }

    [Test]
    public void NamesOverIpv6()
    {
        Assume.That(HasIpv6Loopback(), Is.True, "::1 is absent on this host");
        using var d = Start();
        using var node = Register(d, "foo", 1042);
        Assert.That(Names(d, host: "::1"), Is.EqualTo("name foo at port 1042\n"));
    }

    // epmd_SUITE's stupid_names_req, bounded: 300 names (a NAMES reply well over the 3060-byte
    // input buffer size), the first one unregistered, then every line parsed back.
    [Test]
    public void StupidNamesReq()
    {
        using var d = Start();
        var clients = new List<RawEpmdClient>();
        try
        {
            for (int i = 1; i <= 300; i++) clients.Add(Register(d, $"foo{i}", 1000 + i));
            clients[0].Dispose();
            WaitUnregistered(d, "foo1");
            var text = Names(d);
            var expected = string.Concat(Enumerable.Range(2, 299).Reverse().Select(i => $"name foo{i} at port {1000 + i}\n"));
            Assert.That(text, Has.Length.EqualTo(expected.Length));
            Assert.That(text, Is.EqualTo(expected));
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }
}
