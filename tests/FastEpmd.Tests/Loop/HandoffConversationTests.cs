// The handoff conversation end to end over a real SEQPACKET socketpair: the old daemon's session
// (HandoffSession, stepped on its own thread as the loop steps it, over a fake host that records
// freezes and thaws, with a fake clock) and the new side (HandoffReceiver) on the test thread, with
// real descriptors in batches past SCM_MAX_FD. The fence: the new side may serve only after Commit;
// the old side thaws on every failure before Serving.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Upgrade;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Loop;

public unsafe class HandoffConversationTests
{
    private readonly OpenDescriptors _open = new();

    [TearDown]
    public void CloseAll() => _open.CloseAll();

    private int Track(int fd) => _open.Track(fd);

    private sealed class FakeHost(HandoffPayload payload) : IHandoffHost
    {
        public int Freezes;
        public int Thaws;
        public bool Frozen => Freezes > Thaws;
        public void Freeze() => Freezes++;
        public bool Drained => true;
        public void CloseUndrained() { }
        public HandoffPayload Export(in HandoffHello hello) => payload;
        public void Thaw() => Thaws++;
        public void WatchControl(int fd, bool write) { }
    }

    /// <summary>The old side: reads the Hello as the control endpoint does, then steps the session until it is over.</summary>
    private sealed class OldSide
    {
        public readonly FakeHost Host;
        public long NowMs = 1_000_000;
        public HandoffSession? Session;
        public readonly Task Run;

        public OldSide(int fd, HandoffPayload payload)
        {
            Host = new FakeHost(payload);
            Run = Task.Run(() =>
            {
                var buffer = new byte[HandoffWire.MaxHelloLength];
                if (!UnixSocket.Wait(fd, forWrite: false, 5000)) return;
                if (SocketIo.Receive(fd, buffer, out int n, out _) != IoStatus.Done || !HandoffWire.TryReadHello(buffer.AsSpan(0, n), out var hello)) return;
                var session = new HandoffSession(fd, hello, Environment.ProcessId, Host, Log.Silent, Interlocked.Read(ref NowMs));
                Session = session;
                for (int i = 0; i < 2000 && !session.Over; i++)
                {
                    UnixSocket.Wait(fd, forWrite: false, 5);
                    long now = Interlocked.Read(ref NowMs);
                    session.OnReady(readable: true, writable: true, now);
                    session.Advance(now);
                }
            });
        }

        public HandoffStep Step => Session?.Step ?? HandoffStep.AwaitGo;
    }

    private static HandoffPayload Payload(byte[] image, List<HandedDescriptor> descriptors) =>
        new(1, image, descriptors, descriptors.Count(d => d.Role == DescriptorRole.Alive));

    /// <summary>A handoff of one listener, taken whole by the new side (which has not accepted yet).</summary>
    private (OldSide Old, HandoffReceiver Receiver, int NewFd) HandedOneListener()
    {
        var (oldFd, newFd) = Pair();
        var old = new OldSide(oldFd, Payload(new byte[100], new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) }));
        var receiver = new HandoffReceiver(newFd, 5000);
        var received = receiver.Receive(new ushort[] { 1 }, 10_000);
        Assert.That(received, Is.Not.Null, receiver.Error);
        foreach (var d in received!.Descriptors) Track(d.Fd);
        return (old, receiver, newFd);
    }

    private (int Old, int New) Pair()
    {
        var (a, b) = SocketPairs.UnixSeqPacket();
        return (Track(a), Track(b));
    }

    [Test]
    public void Image_in_chunks_and_600_descriptors_arrive_whole_and_the_new_side_serves_only_after_Commit()
    {
        var (oldFd, newFd) = Pair();
        var image = new byte[150_000];
        new Random(13).NextBytes(image);
        var descriptors = new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) };
        for (int i = 0; i < 600; i++) descriptors.Add(new HandedDescriptor(DescriptorRole.Alive, 1000UL + (ulong)i, Track(dup(oldFd))));
        var old = new OldSide(oldFd, Payload(image, descriptors));

        using var receiver = new HandoffReceiver(newFd, 5000);
        var received = receiver.Receive(new ushort[] { 1 }, 10_000);
        Assert.That(received, Is.Not.Null, receiver.Error);
        foreach (var d in received!.Descriptors) Track(d.Fd);
        Assert.That(received.Format, Is.EqualTo(1));
        Assert.That(received.OldPid, Is.EqualTo(Environment.ProcessId));
        Assert.That(received.Image, Is.EqualTo(image));
        Assert.That(received.Descriptors.Select(d => (d.Role, d.Key)), Is.EqualTo(descriptors.Select(d => (d.Role, d.Key))));
        Assert.That(received.Descriptors.Select(d => d.Fd).Distinct().Count(), Is.EqualTo(601));
        Assert.That(received.Descriptors.All(d => fcntl(d.Fd, F_GETFD, 0) >= 0), Is.True, "every descriptor is open here");
        Assert.That(old.Host.Frozen, Is.True, "the old daemon is frozen while the state is in flight");
        Assert.That(old.Step, Is.EqualTo(HandoffStep.AwaitAccept));

        Assert.That(receiver.Accept(), Is.True);
        Assert.That(receiver.AwaitCommit(Environment.ProcessId, 5000), Is.True, receiver.Error);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.AwaitServing), "committed: it waits for Serving, frozen");
        Assert.That(old.Host.Frozen, Is.True);
        Assert.That(receiver.SayServing(), Is.True);
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Yielded));
        Assert.That(old.Host.Thaws, Is.EqualTo(0), "never serves again");
    }

    [Test]
    public void A_Hello_alone_does_not_freeze_the_old_side_and_its_Go_deadline_ends_it()
    {
        var (oldFd, newFd) = Pair();
        var old = new OldSide(oldFd, Payload(new byte[10], new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) }));
        var channel = new HandoffChannel(newFd, 5000);
        var hello = new byte[HandoffWire.MaxHelloLength];
        Assert.That(channel.Send(hello.AsSpan(0, HandoffWire.WriteHello(hello, 10_000, new ushort[] { 1 }))), Is.True);
        Assert.That(channel.Expect(HandoffType.Offer, out _), Is.True, channel.Error);
        Assert.That(old.Host.Freezes, Is.EqualTo(0), "an Offer is made while serving on");
        Interlocked.Add(ref old.NowMs, HandoffSession.GoMs);
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
        Assert.That(old.Session!.Error, Is.EqualTo("timed out waiting for Go"));
    }

    [Test]
    public void A_receiver_that_does_not_read_the_format_refuses_and_the_old_side_hears_why()
    {
        var (oldFd, newFd) = Pair();
        var old = new OldSide(oldFd, Payload(new byte[10], new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) }));
        var before = OpenDescriptors.Snapshot();

        using var receiver = new HandoffReceiver(newFd, 5000);
        Assert.That(receiver.Receive(new ushort[] { 2 }, 10_000), Is.Null);
        Assert.That(receiver.Error, Is.EqualTo("state format 1 is not one this binary reads (2)"));
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
        Assert.That(old.Session!.Error, Is.EqualTo("refused: state format 1 is not one this binary reads (2)"));
        Assert.That(old.Host.Freezes, Is.EqualTo(0));
        Assert.That(OpenDescriptors.OpenedSince(before), Is.Empty, "no descriptor was sent before the Go");
    }

    [Test]
    public void A_receiver_with_too_little_room_is_declined_before_any_descriptor_moves()
    {
        var (oldFd, newFd) = Pair();
        var descriptors = Enumerable.Range(0, 20).Select(i => new HandedDescriptor(DescriptorRole.Alive, (ulong)i, Track(dup(oldFd)))).ToList();
        var old = new OldSide(oldFd, Payload(new byte[10], descriptors));

        using var receiver = new HandoffReceiver(newFd, 5000);
        Assert.That(receiver.Receive(new ushort[] { 1 }, 10), Is.Null);
        Assert.That(receiver.Error, Does.StartWith("the running daemon declined: 20 descriptors to hand over, room for 10"));
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
    }

    [Test]
    public void A_receiver_that_goes_away_mid_handoff_ends_it_at_once_and_the_old_side_thaws()
    {
        var (oldFd, newFd) = Pair();
        var descriptors = Enumerable.Range(0, 300).Select(i => new HandedDescriptor(DescriptorRole.Alive, (ulong)i, Track(dup(oldFd)))).ToList();
        var old = new OldSide(oldFd, Payload(new byte[200_000], descriptors));

        var channel = new HandoffChannel(newFd, 5000);
        var hello = new byte[HandoffWire.MaxHelloLength];
        Assert.That(channel.Send(hello.AsSpan(0, HandoffWire.WriteHello(hello, 10_000, new ushort[] { 1 }))), Is.True);
        Assert.That(channel.Expect(HandoffType.Offer, out _), Is.True, channel.Error);
        Assert.That(channel.SendType(HandoffType.Go), Is.True);
        Assert.That(channel.Expect(HandoffType.Offer, out _), Is.True, channel.Error);
        Assert.That(channel.Expect(HandoffType.Image, out _), Is.True, channel.Error);
        _open.Forget(newFd);
        close(newFd);

        Assert.That(old.Run.Wait(2000), Is.True, "no wait for the deadline");
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
        Assert.That(old.Session!.Error, Does.StartWith("send: ").Or.EqualTo("the other process closed the connection"));
        Assert.That(old.Host.Freezes, Is.EqualTo(1));
        Assert.That(old.Host.Thaws, Is.EqualTo(1), "serving again");
    }

    [Test]
    public void A_late_Accept_is_refused_at_the_deadline_and_the_new_side_never_gets_leave_to_serve()
    {
        var (old, receiver, _) = HandedOneListener();
        using var owned = receiver;

        Interlocked.Add(ref old.NowMs, HandoffSession.AcceptMs);   // the new side is slow: the old one's deadline passes
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
        Assert.That(old.Host.Thaws, Is.EqualTo(1), "the old daemon serves on");

        receiver.Accept();   // too late
        Assert.That(receiver.AwaitCommit(Environment.ProcessId, 2000), Is.False, "no leave to serve");
        Assert.That(receiver.Error, Does.StartWith("refused: timed out"));
    }

    [Test]
    public void A_new_side_gone_after_Commit_before_Serving_lets_the_old_side_serve_on()
    {
        var (old, receiver, newFd) = HandedOneListener();
        receiver.Accept();
        Assert.That(receiver.AwaitCommit(Environment.ProcessId, 5000), Is.True);
        _open.Forget(newFd);
        close(newFd);   // dies without saying Serving: it never served
        Assert.That(old.Run.Wait(5000), Is.True);
        Assert.That(old.Step, Is.EqualTo(HandoffStep.Aborted));
        Assert.That(old.Session!.Error, Does.StartWith("the new process went away before it served"));
        Assert.That(old.Host.Thaws, Is.EqualTo(1));
    }

    [Test]
    public void An_end_without_Commit_while_the_old_process_lives_is_no_leave_to_serve()
    {
        var (oldFd, newFd) = Pair();
        var channel = new HandoffChannel(oldFd, 1000);
        _open.Forget(oldFd);
        close(oldFd);
        using var receiver = new HandoffReceiver(newFd, 1000);
        Assert.That(receiver.AwaitCommit(Environment.ProcessId, 1000), Is.False, "this process (the 'old' one) is alive");
        GC.KeepAlive(channel);
    }
}
