// A descriptor leaves the poller before it is closed, on every path. An epoll registration belongs
// to the open file, not to the descriptor number: while a copy of the socket lives elsewhere (a hung
// -upgrade that received it, systemd's store, a fork), a socket closed without EPOLL_CTL_DEL keeps
// reporting its dead token and the loop spins. Here the copy is a dup() the test holds, which keeps
// the open file alive exactly as another process's copy does; the loop must then wait quietly.
using System.Diagnostics;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Interop;
using FastEpmd.Service;
using Tmds.Linux;
using FastEpmd.Tests.Pollers;

namespace FastEpmd.Tests.Loop;

[TestFixture(PollerBackend.Epoll)]
[TestFixture(PollerBackend.Kqueue)]
public class HeldCopyTests(PollerBackend backend)
{
    private readonly OpenDescriptors _open = new();

    [TearDown]
    public void CloseAll() => _open.CloseAll();

    private const string AliveNode = "00 12 78 9d6d 4d 00 0006 0005 0005 616c706861 0000";

    /// <summary>After the close, the loop's waits return nothing: no stale event is reported.</summary>
    private static void AssertQuiet(LoopHarness h)
    {
        for (int i = 0; i < 10; i++) Assert.That(h.Step(0), Is.Zero, $"wait {i}: a closed socket still reports events");
    }

    private int CopyOf(LoopHarness h, ConnectionState state)
    {
        int slot = h.Table.SlotsOf(0).Single(s => h.Epmd[s].State == state);
        return _open.Track(LibC.dup(h.Table[slot].Fd));
    }

    [Test]
    public void A_registration_whose_node_closes_while_a_copy_is_held_leaves_the_loop_idle()
    {
        using var h = new LoopHarness(backend);
        var node = h.Register(AliveNode, "76 00 65 53 f1 01");
        CopyOf(h, ConnectionState.Registered);
        node.Close();
        for (int i = 0; i < 20 && h.Registry.RegisteredCount == 1; i++) h.Step(10);
        Assert.That(h.Registry.RegisteredCount, Is.Zero, "the close is the deregistration");
        AssertQuiet(h);
    }

    [Test]
    public void A_registration_whose_socket_another_process_holds_leaves_the_loop_idle_when_its_node_closes()
    {
        // The copy goes to a separate process over SCM_RIGHTS (as a hung -upgrade would hold it),
        // and the test's own copy is closed: only that process keeps the open file alive.
        using var h = new LoopHarness(backend);
        var node = h.Register(AliveNode, "76 00 65 53 f1 01");
        int copy = CopyOf(h, ConnectionState.Registered);
        string name = "fastepmd-test-held:" + Guid.NewGuid().ToString("N");
        const string Holder = "import socket,sys\n"
            + "s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET); s.bind('\\0'+sys.argv[1]); s.listen(1); print('ready',flush=True)\n"
            + "c,_=s.accept(); fds=socket.recv_fds(c,16,4)[1]; print('held',len(fds),flush=True)\n"
            + "sys.stdin.read()\n";
        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(Holder);
        psi.ArgumentList.Add(name);
        using var holder = Process.Start(psi)!;
        try
        {
            Assert.That(holder.StandardOutput.ReadLine(), Is.EqualTo("ready"));
            int channel = _open.Track(UnixSocket.Connect(name));
            Assert.That(DescriptorPassing.Send(channel, "x"u8, new[] { copy }, out _), Is.EqualTo(IoStatus.Done));
            Assert.That(holder.StandardOutput.ReadLine(), Is.EqualTo("held 1"));
            _open.CloseAll();   // our copy and the channel: the other process's copy is the only one left

            node.Close();
            for (int i = 0; i < 20 && h.Registry.RegisteredCount == 1; i++) h.Step(10);
            Assert.That(h.Registry.RegisteredCount, Is.Zero);
            AssertQuiet(h);
        }
        finally
        {
            holder.StandardInput.Close();
            if (!holder.WaitForExit(5000)) holder.Kill();
        }
    }

    [Test]
    public void A_reader_closed_by_its_peer_while_a_copy_is_held_leaves_the_loop_idle()
    {
        using var h = new LoopHarness(backend);
        var client = h.Send(h.Connect(), "00");   // half a length: the loop waits for more
        h.Step();
        CopyOf(h, ConnectionState.Reading);
        client.Close();
        for (int i = 0; i < 20 && h.Epmd.Count > 0; i++) h.Step(10);
        Assert.That(h.Epmd.Count, Is.Zero);
        AssertQuiet(h);
    }

    [Test]
    public void An_evicted_connection_whose_copy_is_held_leaves_the_loop_idle()
    {
        using var h = new LoopHarness(backend, capacity: 1);
        var oldest = h.Send(h.Connect(), "00");
        h.Step();
        CopyOf(h, ConnectionState.Reading);
        var e = h.Request("00 01 6e");   // the table is full: the reader is evicted for it
        Assert.That(e.Hex, Does.StartWith("00 00"));
        Assert.That(h.Epmd.Counters.DroppedForFullTable, Is.EqualTo(1));
        oldest.Close();   // its peer goes too: with the registration left behind this would fire forever
        AssertQuiet(h);
    }

    [Test]
    public void A_connection_timed_out_while_a_copy_is_held_leaves_the_loop_idle()
    {
        using var h = new LoopHarness(backend, new EpmdOptions { PacketTimeoutSeconds = 1 });
        var client = h.Send(h.Connect(), "00");
        h.Step();
        CopyOf(h, ConnectionState.Reading);
        h.NowMs += EpmdEndpoint.IdleTimeoutMs(1);
        h.Step();
        Assert.That(h.Epmd.Counters.Timeouts, Is.EqualTo(1));
        client.Close();
        AssertQuiet(h);
    }

    [Test]
    public void Registrations_released_at_a_stop_that_keeps_them_leave_the_poller_first()
    {
        var poller = new FaultyPoller(backend);
        using var h = new LoopHarness(backend, poller: poller, keepRegistrationsAtStop: true);
        h.Register(AliveNode, "76 00 65 53 f1 01");
        int slot = h.Table.SlotsOf(0).Single();
        int fd = h.Table[slot].Fd;
        h.Loop.Shutdown(0);
        Assert.That(poller.Removed, Does.Contain(fd), "released without a deregistration, but out of the poller");
        Assert.That(h.Registry.RegisteredCount, Is.EqualTo(1));
    }
}
