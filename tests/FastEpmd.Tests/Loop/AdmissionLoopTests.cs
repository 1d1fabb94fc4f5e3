// -allow, -max_per_peer and -names local in the real loop, with non-local peers made on loopback
// (MappedLoopback): who is closed at accept, that none of their bytes is read (close with unread
// data is a reset), who is still served, and the counters.
using System.Net.Sockets;
using FastEpmd.CommandLine;
using FastEpmd.Service;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class AdmissionLoopTests(PollerBackend backend)
{
    private const string AliveAlpha = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";
    private const string PortPleaseAlpha = "00 06 7a 616c706861";
    private const string Port2Alpha = "77 00 9d6d 4d 00 0006 0005 0005 616c706861 0000";

    private static EpmdOptions Options(params string[] args)
    {
        var parsed = OptionParser.Parse(args, _ => null);
        Assert.That(parsed.ExitCode, Is.Null);
        return parsed.Options;
    }

    [Test]
    public void A_peer_outside_the_list_is_reset_unread_and_counted()
    {
        using var h = new LoopHarness(backend, Options("-allow", "127.0.0.3,10.0.0.0/8"));
        using var node = h.Register(AliveAlpha, "76 00 65 53 f1 01");
        int port = MappedLoopback.AddListener(h);

        using var refused = MappedLoopback.Connect(port, 2);
        refused.Send(Hex.Parse(PortPleaseAlpha));
        var e = h.Run(refused);
        Assert.That(e.Data, Is.Empty);
        Assert.That(e.Reset, Is.True, "closed with the request unread (RST), not after reading it (FIN)");
        Assert.That(h.Service.Refusals.NotAllowed, Is.EqualTo(1));
        Assert.That(h.Epmd.Count, Is.EqualTo(1), "only the registration holds a slot");

        using var allowed = MappedLoopback.Connect(port, 3);
        allowed.Send(Hex.Parse(PortPleaseAlpha));
        Assert.That(h.Run(allowed).Hex, Is.EqualTo(Hex.Format(Hex.Parse(Port2Alpha))));

        // Local peers are always allowed, whatever the list says.
        Assert.That(h.Request(PortPleaseAlpha).Hex, Is.EqualTo(Hex.Format(Hex.Parse(Port2Alpha))));
        Assert.That(h.Service.Refusals.NotAllowed, Is.EqualTo(1));
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(1));
    }

    [Test]
    public void Without_a_list_every_peer_is_served()
    {
        using var h = new LoopHarness(backend);
        int port = MappedLoopback.AddListener(h);
        using var remote = MappedLoopback.Connect(port, 2);
        remote.Send(Hex.Parse(PortPleaseAlpha));
        Assert.That(h.Run(remote).Hex, Is.EqualTo("77 01"));
        Assert.That(h.Service.Refusals.NotAllowed, Is.Zero);
    }

    [Test]
    public void One_address_holds_at_most_max_per_peer_slots()
    {
        using var h = new LoopHarness(backend, Options("-max_per_peer", "3"), capacity: 16);
        int port = MappedLoopback.AddListener(h);
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var s = MappedLoopback.Connect(port, 2);
                held.Add(s);
                s.Send(new byte[] { 0 });   // half a length: the slot stays taken
                h.Step();
            }
            Assert.That(h.Epmd.Count, Is.EqualTo(3));

            using (var over = MappedLoopback.Connect(port, 2))
            {
                over.Send(Hex.Parse(PortPleaseAlpha));
                var e = h.Run(over);
                Assert.That(e.Data, Is.Empty);
                Assert.That(e.Reset, Is.True);
            }
            Assert.That(h.Service.Refusals.OverPeerCap, Is.EqualTo(1));
            Assert.That(h.Epmd.Count, Is.EqualTo(3), "the refused connection took no slot and evicted no one");

            // Another address and local peers are not capped by it.
            using (var other = MappedLoopback.Connect(port, 4))
            {
                other.Send(Hex.Parse(PortPleaseAlpha));
                Assert.That(h.Run(other).Hex, Is.EqualTo("77 01"));
            }
            for (int i = 0; i < 5; i++) Assert.That(h.Request(PortPleaseAlpha).Hex, Is.EqualTo("77 01"));

            // A close gives the slot back to the address.
            held[0].Dispose();
            for (int step = 0; step < 50 && h.Epmd.Count > 2; step++) h.Step(10);
            Assert.That(h.Epmd.Count, Is.EqualTo(2));
            using var again = MappedLoopback.Connect(port, 2);
            again.Send(Hex.Parse(PortPleaseAlpha));
            Assert.That(h.Run(again).Hex, Is.EqualTo("77 01"));
            Assert.That(h.Service.Refusals.OverPeerCap, Is.EqualTo(1));
        }
        finally
        {
            foreach (var s in held) s.Dispose();
        }
    }

    [Test]
    public void Names_local_closes_a_remote_NAMES_and_answers_its_PORT_PLEASE2()
    {
        using var h = new LoopHarness(backend, Options("-names", "local"));
        using var node = h.Register(AliveAlpha, "76 00 65 53 f1 01");
        int port = MappedLoopback.AddListener(h);

        using (var names = MappedLoopback.Connect(port, 2))
        {
            names.Send(Hex.Parse("00 01 6e"));
            var e = h.Run(names);
            Assert.That(e.Closed, Is.True);
            Assert.That(e.Data, Is.Empty);
        }
        Assert.That(h.Service.Refusals.NamesNotLocal, Is.EqualTo(1));
        using (var lookup = MappedLoopback.Connect(port, 2))
        {
            lookup.Send(Hex.Parse(PortPleaseAlpha));
            Assert.That(h.Run(lookup).Hex, Is.EqualTo(Hex.Format(Hex.Parse(Port2Alpha))));
        }
        var local = h.Request("00 01 6e");
        Assert.That(local.Hex, Is.EqualTo(Hex.Format(Hex.Cat(Hex.Parse("00 00 11 11"), Hex.Ascii("name alpha at port 40301\n")))));
        Assert.That(h.Service.Refusals.NamesNotLocal, Is.EqualTo(1));
    }

    [Test]
    public void Default_answers_a_remote_NAMES()
    {
        using var h = new LoopHarness(backend);
        int port = MappedLoopback.AddListener(h);
        using var names = MappedLoopback.Connect(port, 2);
        names.Send(Hex.Parse("00 01 6e"));
        Assert.That(h.Run(names).Hex, Is.EqualTo("00 00 11 11"));
    }
}
