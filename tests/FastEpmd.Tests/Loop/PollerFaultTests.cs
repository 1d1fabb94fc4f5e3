// Every epoll_ctl call site of the loop survives a refusal (ENOMEM, ENOSPC), through a test double
// over the real poller: a connection the poller will not watch is closed with one log line, a
// control connection likewise, a listener that cannot be added is logged and the others serve, and
// a listener whose pause or resume is refused after an accept error leaves the poller (no spin) and
// comes back by its backoff timer, and a descriptor the poller will not let go of stays open until
// it does (closing it would leave a held copy's registration spinning the loop). Each test ends with
// a lookup answered: the loop lives.
using System.Net.Sockets;
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Upgrade;
using FastEpmd.Tests.Pollers;
using Tmds.Linux;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class PollerFaultTests(PollerBackend backend)
{
    private const string NamesRequest = "00 01 6e";
    private const string NamesHeader = "00 00 11 11";
    private readonly OpenDescriptors _open = new();

    [TearDown]
    public void CloseAll() => _open.CloseAll();

    private static bool IsConnection(ulong token) => LoopToken.KindOf(token) == TokenKind.Connection;

    private static bool IsListener(ulong token) => LoopToken.KindOf(token) == TokenKind.Listener;

    private static void AssertServes(LoopHarness h)
    {
        var e = h.Request(NamesRequest);
        Assert.That(e.Hex, Does.StartWith(NamesHeader), "the loop still answers NAMES");
        Assert.That(e.Closed, Is.True);
    }

    [TestCase(28)]   // ENOSPC: max_user_watches reached
    [TestCase(12)]   // ENOMEM
    public void A_connection_the_poller_will_not_watch_is_closed_and_the_loop_serves_on(int errno)
    {
        var lines = new List<string>();
        var poller = new FaultyPoller(backend) { Errno = errno, FailAdd = (_, token) => IsConnection(token) };
        using var h = new LoopHarness(backend, log: new Log(0, lines.Add), poller: poller);
        var silent = h.Connect();   // accepted, nothing to read: the loop asks the poller to watch it
        h.Step();
        Assert.That(poller.Refused, Is.EqualTo(1));
        Assert.That(LoopHarness.ClosedSilently(silent), Is.True, "the connection it could not watch is closed");
        Assert.That(h.Epmd.Count, Is.Zero);
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Contain("cannot watch fd").And.Contain("epoll_ctl(ADD)"));
        Assert.That(h.Loop.PollerRefusals, Is.EqualTo(1));

        poller.FailAdd = null;
        AssertServes(h);
    }

    [Test]
    public void A_control_connection_the_poller_will_not_watch_is_closed_and_the_next_asker_is_heard()
    {
        var poller = new FaultyPoller(backend) { FailAdd = (_, token) => IsConnection(token) };
        using var h = new LoopHarness(backend, poller: poller);
        string name = "fastepmd-test:" + Guid.NewGuid().ToString("N");
        int listener = UnixSocket.Listen(name);
        Assert.That(listener, Is.GreaterThanOrEqualTo(0));
        Assert.That(h.Control.AddListener(listener), Is.True);
        h.Control.ExportForHandoff = _ => new HandoffPayload(1, new byte[10], new List<HandedDescriptor>(), 0);

        int first = _open.Track(UnixSocket.Connect(name));
        h.Step(5);
        Assert.That(poller.Refused, Is.EqualTo(1));
        Assert.That(SocketIo.Receive(first, new byte[8], out _, out _), Is.EqualTo(IoStatus.PeerClosed), "closed, no session");
        Assert.That(h.Control.Session, Is.Null);

        poller.FailAdd = null;
        int second = _open.Track(UnixSocket.Connect(name));
        var hello = new byte[HandoffWire.MaxHelloLength];
        int length = HandoffWire.WriteHello(hello, 1000, new ushort[] { 1 });
        Assert.That(DescriptorPassing.Send(second, hello.AsSpan(0, length), default, out _), Is.EqualTo(IoStatus.Done));
        for (int i = 0; i < 20 && h.Control.Session is null; i++) h.Step(5);
        Assert.That(h.Control.Session, Is.Not.Null, "the next asker's Hello starts a session");
        Assert.That(h.Control.Session!.Step, Is.EqualTo(HandoffStep.AwaitGo));
        AssertServes(h);
    }

    [Test]
    public void A_listener_the_poller_refuses_is_logged_and_the_others_serve()
    {
        var lines = new List<string>();
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, log: new Log(0, lines.Add), poller: poller);
        int second = Listener.Open(SocketPairs.Loopback4, 0);
        _open.Track(second);
        poller.FailAdd = (_, token) => IsListener(token);
        Assert.That(h.Epmd.AddListener(second), Is.False);
        Assert.That(lines.Single(), Does.Contain("cannot watch listener fd " + second));
        poller.FailAdd = null;
        AssertServes(h);
    }

    [Test]
    public void A_listener_whose_pause_and_resume_are_refused_leaves_the_poller_and_comes_back_by_its_timer()
    {
        // accept4 fails with EIO (a persistent error: the listener pauses with backoff) while the
        // poller refuses both the pause (MOD to nothing) and the resume (ADD back).
        bool acceptFails = true;
        int acceptCalls = 0;
        int Accept(int fd, out PeerAddress peer)
        {
            acceptCalls++;
            if (acceptFails)
            {
                peer = default;
                return -Errno.EIO;
            }
            return Listener.Accept(fd, out peer);
        }
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, poller: poller, accept: Accept);
        poller.FailModify = (_, token, _) => IsListener(token);
        poller.FailAdd = (_, token) => IsListener(token);
        var client = h.Send(h.Connect(), NamesRequest);
        for (int i = 0; i < 20 && acceptCalls == 0; i++) h.Step(10);
        Assert.That(acceptCalls, Is.EqualTo(1));
        Assert.That(poller.Removed, Does.Contain(h.Loop.ListenerFd(0)), "a refused pause takes the listener out of the poller");
        for (int i = 0; i < 5; i++) Assert.That(h.Step(0), Is.Zero, "no event while paused: no spin");
        Assert.That(acceptCalls, Is.EqualTo(1));

        // Its backoff is over, the resume is refused: it stays out and tries again later.
        h.NowMs += ListenerBackoff.FirstDelayMs;
        h.Step(0);
        int refused = poller.Refused;
        Assert.That(refused, Is.GreaterThanOrEqualTo(2));
        Assert.That(h.Step(0), Is.Zero);

        // The faults stop: the next backoff step watches it again and the queued client is served.
        poller.FailAdd = null;
        poller.FailModify = null;
        acceptFails = false;
        h.NowMs += ListenerBackoff.MaxDelayMs;
        var e = h.Run(client);
        Assert.That(e.Hex, Does.StartWith(NamesHeader));
        AssertServes(h);
    }

    private const string AliveNode = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";

    /// <summary>The socket's inode, or 0 when fd is not open.</summary>
    private static unsafe ulong Inode(int fd)
    {
        stat st;
        return LibC.fstat(fd, &st) == 0 ? (ulong)st.st_ino : 0;
    }

    /// <summary>A registered node whose socket the poller will refuse to let go of; its fd and that socket's inode.</summary>
    private static (Socket Node, int Fd, ulong Inode) RegisteredWithRefusedRemove(LoopHarness h, FaultyPoller poller)
    {
        var node = h.Register(AliveNode, "76 00 65 53 f1 01");
        int slot = h.Table.SlotsOf(0).Single(s => h.Epmd[s].State == ConnectionState.Registered);
        int fd = h.Table[slot].Fd;
        poller.FailRemove = candidate => candidate == fd;
        return (node, fd, Inode(fd));
    }

    /// <summary>The node closes, and the loop runs until its registration is gone.</summary>
    private static void CloseAndDeregister(LoopHarness h, Socket node)
    {
        node.Close();
        for (int i = 0; i < 20 && h.Registry.RegisteredCount == 1; i++) h.Step(10);
    }

    [Test]
    public void A_connection_the_poller_will_not_let_go_of_stays_open_until_it_does_and_a_held_copy_cannot_spin_the_loop()
    {
        // The node's socket has a copy (the test's dup, as another process's would be): closed
        // without leaving the poller, its registration would report a dead token at every wait.
        var lines = new List<string>();
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, log: new Log(0, lines.Add), poller: poller);
        var (node, fd, inode) = RegisteredWithRefusedRemove(h, poller);
        _open.Track(LibC.dup(fd));

        CloseAndDeregister(h, node);
        Assert.That(h.Registry.RegisteredCount, Is.Zero, "the close is the deregistration");
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Contain("cannot stop watching fd " + fd).And.Contain("its close waits until the poller lets go"));
        Assert.That(Inode(fd), Is.EqualTo(inode), "not closed while the poller still watches it");
        Assert.That(h.Loop.PollerRefusals, Is.EqualTo(1));

        poller.FailRemove = null;
        h.Step(PendingCloses.RetryMs * 3);
        Assert.That(Inode(fd), Is.Not.EqualTo(inode), "closed once the poller let go of it");
        for (int i = 0; i < 10; i++) Assert.That(h.Step(0), Is.Zero, $"wait {i}: the held copy reports nothing");
        AssertServes(h);
    }

    [Test]
    public void A_descriptor_the_poller_never_lets_go_of_is_closed_after_the_tries_with_one_line()
    {
        var lines = new List<string>();
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, log: new Log(0, lines.Add), poller: poller);
        var (node, fd, inode) = RegisteredWithRefusedRemove(h, poller);

        CloseAndDeregister(h, node);
        Assert.That(Inode(fd), Is.EqualTo(inode));
        for (int i = 0; i < PendingCloses.MaxTries + 5 && Inode(fd) == inode; i++) h.Step(0);
        Assert.That(Inode(fd), Is.Not.EqualTo(inode), "closed after the tries");
        Assert.That(lines.Last(), Does.Contain("closed 1 descriptor(s) that the poller still would not let go of"));
        poller.FailRemove = null;
        AssertServes(h);
    }

    [Test]
    public void A_listener_the_poller_will_not_let_go_of_is_closed_once_it_does()
    {
        // systemd's socket unit holds a copy of every listener it passes: a listener closed while
        // still watched would keep reporting its queue.
        var lines = new List<string>();
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, log: new Log(0, lines.Add), poller: poller);
        int fd = h.Loop.ListenerFd(0);
        ulong inode = Inode(fd);
        poller.FailRemove = candidate => candidate == fd;
        h.Loop.CloseListener(0);
        Assert.That(lines.Single(), Does.Contain("cannot stop watching listener fd " + fd));
        Assert.That(Inode(fd), Is.EqualTo(inode), "still open while the poller watches it");
        Assert.That(h.Loop.ListenerOpen(0), Is.False);

        poller.FailRemove = null;
        h.Step(PendingCloses.RetryMs * 3);
        Assert.That(Inode(fd), Is.Not.EqualTo(inode), "closed once the poller let go of it");
        Assert.That(lines, Has.Count.EqualTo(1));
    }
}
