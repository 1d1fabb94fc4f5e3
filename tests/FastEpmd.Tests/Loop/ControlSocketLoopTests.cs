// The -upgrade control socket inside the real loop: a trusted Hello starts a handoff session that
// offers while the loop serves on, and Go freezes it until the session ends; garbage, a second
// asker and a silent one are closed; a flood of them leaves epmd clients served.
using FastEpmd.Endpoints.Control;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using FastEpmd.Upgrade;
using static Tmds.Linux.LibC;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public unsafe class ControlSocketLoopTests(PollerBackend backend)
{
    private const string AliveAlphaHex = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";
    private const string NamesReply = "00 00 11 11";   // NAMES_RESP header on the harness's port 4369 as configured
    private readonly OpenDescriptors _open = new();

    [TearDown]
    public void CloseAll() => _open.CloseAll();

    private static string UniqueName() => "fastepmd-test:" + Guid.NewGuid().ToString("N");

    private (LoopHarness Loop, string Name) Start()
    {
        var loop = new LoopHarness(backend);
        string name = UniqueName();
        int fd = UnixSocket.Listen(name);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "listen: " + Errno.Describe(-fd));
        loop.Control.AddListener(fd);
        loop.Control.ExportForHandoff = _ => new HandoffPayload(1, new byte[10], new List<HandedDescriptor>(), 0);
        return (loop, name);
    }

    private int Dial(string name)
    {
        int fd = UnixSocket.Connect(name);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0), "connect: " + Errno.Describe(-fd));
        _open.Track(fd);
        return fd;
    }

    private static void SendRecord(int fd, ReadOnlySpan<byte> record) =>
        Assert.That(DescriptorPassing.Send(fd, record, default, out _), Is.EqualTo(IoStatus.Done));

    private static byte[] Hello()
    {
        var record = new byte[HandoffWire.MaxHelloLength];
        return record.AsSpan(0, HandoffWire.WriteHello(record, 1000, new ushort[] { 1 })).ToArray();
    }

    /// <summary>True once the daemon side has closed fd (EOF), within a few steps.</summary>
    private static bool ClosedByDaemon(LoopHarness loop, int fd)
    {
        var buffer = new byte[64];
        for (int i = 0; i < 20; i++)
        {
            loop.Step(5);
            var status = SocketIo.Receive(fd, buffer, out _, out _);
            if (status is IoStatus.PeerClosed or IoStatus.Reset) return true;
            if (status == IoStatus.Done) return false;
        }
        return false;
    }

    /// <summary>Steps until a Hello has started a session (the reactor owns its descriptor).</summary>
    private static HandoffSession AwaitSession(LoopHarness loop)
    {
        for (int i = 0; i < 20 && loop.Control.Session is null; i++) loop.Step(5);
        Assert.That(loop.Control.Session, Is.Not.Null, "a Hello started a session");
        return loop.Control.Session!;
    }

    private static HandoffType? NextRecord(LoopHarness loop, int fd)
    {
        var buffer = new byte[HandoffWire.MaxMessage];
        for (int i = 0; i < 20; i++)
        {
            loop.Step(5);
            if (SocketIo.Receive(fd, buffer, out int n, out _) == IoStatus.Done) return HandoffWire.TypeOf(buffer.AsSpan(0, n));
        }
        return null;
    }

    private static void AssertStillServes(LoopHarness loop)
    {
        var names = loop.Request("00 01 6e");
        Assert.That(names.Hex, Does.StartWith(Hex.Format(Hex.Parse(NamesReply))));
        Assert.That(names.Closed, Is.True);
    }

    [Test]
    public void A_trusted_Hello_gets_an_Offer_while_the_loop_serves_on_and_Go_freezes_it_until_a_Refuse()
    {
        var (loop, name) = Start();
        using var owned = loop;
        int fd = Dial(name);
        SendRecord(fd, Hello());
        var session = AwaitSession(loop);
        Assert.That(session.PeerPid, Is.EqualTo(Environment.ProcessId));
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Offer));
        Assert.That(session.Step, Is.EqualTo(HandoffStep.AwaitGo));
        AssertStillServes(loop);

        var go = new byte[HandoffWire.HeaderLength];
        HandoffWire.WriteHeader(go, HandoffType.Go);
        SendRecord(fd, go);
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Offer), "the exact offer, frozen");
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Image));
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.End));
        Assert.That(session.Step, Is.EqualTo(HandoffStep.AwaitAccept));
        var waiting = loop.Connect();
        waiting.Send(Hex.Parse("00 01 6e"));
        for (int i = 0; i < 5; i++) loop.Step(5);
        Assert.That(waiting.Available, Is.EqualTo(0), "frozen: the listener is not watched");

        var refuse = new byte[HandoffWire.HeaderLength + 4];
        SendRecord(fd, refuse.AsSpan(0, HandoffWire.WriteRefuse(refuse, "no")));
        Assert.That(ClosedByDaemon(loop, fd), Is.True);
        Assert.That(loop.Control.Session, Is.Null);
        AssertStillServes(loop);
        for (int i = 0; i < 5 && waiting.Available == 0; i++) loop.Step(5);
        Assert.That(waiting.Available, Is.GreaterThan(0), "the query that waited in the backlog is answered");
    }

    [Test]
    public void A_node_that_ends_its_registration_while_frozen_is_deregistered_only_after_the_thaw()
    {
        var (loop, name) = Start();
        using var owned = loop;
        var node = loop.Register(AliveAlphaHex, "76 00 65 53 f1 01");
        int fd = Dial(name);
        SendRecord(fd, Hello());
        AwaitSession(loop);
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Offer));
        var go = new byte[HandoffWire.HeaderLength];
        HandoffWire.WriteHeader(go, HandoffType.Go);
        SendRecord(fd, go);
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Offer), "the exact offer, frozen");

        // Frozen: the state sent is the registry; the node's FIN waits out of the poller.
        node.Close();
        for (int i = 0; i < 10; i++) loop.Step(5);
        Assert.That(loop.Registry.FindRegistered("alpha"u8), Is.Not.EqualTo(-1), "frozen: no change to the registry");
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.Image));
        Assert.That(NextRecord(loop, fd), Is.EqualTo(HandoffType.End));

        var refuse = new byte[HandoffWire.HeaderLength + 4];
        SendRecord(fd, refuse.AsSpan(0, HandoffWire.WriteRefuse(refuse, "no")));
        Assert.That(ClosedByDaemon(loop, fd), Is.True);
        for (int i = 0; i < 20 && loop.Registry.FindRegistered("alpha"u8) != -1; i++) loop.Step(5);
        Assert.That(loop.Registry.FindRegistered("alpha"u8), Is.EqualTo(-1), "thawed: the FIN is seen and the node deregistered");
    }

    [Test]
    public void Garbage_on_the_control_socket_is_closed_and_epmd_clients_are_served()
    {
        var (loop, name) = Start();
        using var owned = loop;
        int fd = Dial(name);
        SendRecord(fd, "GET / HTTP/1.0\r\n\r\n"u8);
        Assert.That(ClosedByDaemon(loop, fd), Is.True);
        Assert.That(loop.Control.Session, Is.Null);
        AssertStillServes(loop);
    }

    [Test]
    public void A_second_asker_while_one_is_open_is_closed_and_the_first_keeps_its_place()
    {
        var (loop, name) = Start();
        using var owned = loop;
        int first = Dial(name);
        loop.Step(5);
        int second = Dial(name);
        Assert.That(ClosedByDaemon(loop, second), Is.True);
        SendRecord(first, Hello());
        AwaitSession(loop);
    }

    [Test]
    public void An_asker_silent_for_the_Hello_timeout_is_closed()
    {
        var (loop, name) = Start();
        using var owned = loop;
        int fd = Dial(name);
        loop.Step(5);
        loop.NowMs += ControlEndpoint.HelloTimeoutMs - 1;
        loop.Step(0);
        Assert.That(SocketIo.Receive(fd, new byte[8], out _, out _), Is.EqualTo(IoStatus.WouldBlock), "not yet");
        loop.NowMs += 2;
        Assert.That(ClosedByDaemon(loop, fd), Is.True);
        // The place is free again: a new asker is heard.
        int next = Dial(name);
        SendRecord(next, Hello());
        AwaitSession(loop);
    }

    [Test]
    public void A_flood_of_garbage_askers_is_bounded_and_a_registration_and_queries_are_untouched()
    {
        var (loop, name) = Start();
        using var owned = loop;
        var node = loop.Register("00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000", "76 00 65 53 f1 01");
        var askers = new List<int>();
        // In rounds that fit the listen backlog: the loop runs on this thread, and a connect to a
        // full backlog would wait for it.
        for (int i = 0; i < 200; i++)
        {
            int fd = Dial(name);
            SendRecord(fd, new byte[] { 0xff, 0x00, (byte)i });
            askers.Add(fd);
            if (i % 4 == 3) loop.Step(0);
        }
        for (int i = 0; i < 20; i++) loop.Step(0);
        var buffer = new byte[8];
        Assert.That(askers.Count(fd => SocketIo.Receive(fd, buffer, out _, out _) is IoStatus.PeerClosed or IoStatus.Reset), Is.EqualTo(askers.Count));
        Assert.That(LoopHarness.Quiet(node), Is.True, "the registration's connection is untouched");
        var port = loop.Request("00 06 7a 616c706861");
        Assert.That(port.Hex, Does.StartWith("77 00 9d 6d"));
    }
}
