// The handoff conversation end to end over a real SEQPACKET socketpair: the old side on a thread,
// the new side on the test thread, with real descriptors in batches past SCM_MAX_FD.
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

    /// <summary>Runs the old daemon's side on its own thread; the Hello is read first, as the reactor does.</summary>
    private static Task<(bool Accepted, string Error)> OldSide(int fd, ushort format, byte[] image, List<HandedDescriptor> descriptors) =>
        Task.Run(() =>
        {
            var channel = new HandoffChannel(fd, 5000);
            if (!channel.Receive(out var record, out _) || !HandoffWire.TryReadHello(record, out var hello))
                return (false, "no hello: " + channel.Error);
            var writable = new[] { format };
            bool accepted = HandoffSender.Run(channel, hello, HandoffSender.ChooseFormat(writable, hello.Formats), image, descriptors);
            return (accepted, channel.Error);
        });

    private (int Old, int New) Pair()
    {
        var (a, b) = SocketPairs.UnixSeqPacket();
        return (Track(a), Track(b));
    }

    [Test]
    public void Image_in_chunks_and_600_descriptors_in_batches_arrive_whole_and_the_old_side_learns_it_was_accepted()
    {
        var (oldFd, newFd) = Pair();
        var image = new byte[150_000];
        new Random(13).NextBytes(image);
        var descriptors = new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) };
        for (int i = 0; i < 600; i++) descriptors.Add(new HandedDescriptor(DescriptorRole.Alive, 1000UL + (ulong)i, Track(dup(oldFd))));
        var old = OldSide(oldFd, 1, image, descriptors);

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

        Assert.That(old.IsCompleted, Is.False, "the old side waits for the verdict");
        Assert.That(receiver.Accept(), Is.True);
        Assert.That(old.Wait(5000), Is.True);
        Assert.That(old.Result, Is.EqualTo((true, "")));
    }

    [Test]
    public void A_receiver_that_does_not_read_the_format_refuses_and_the_old_side_hears_why()
    {
        var (oldFd, newFd) = Pair();
        var descriptors = new List<HandedDescriptor> { new(DescriptorRole.EpmdListener, 0, Track(dup(oldFd))) };
        var old = OldSide(oldFd, 1, new byte[10], descriptors);
        var before = OpenDescriptors.Snapshot();

        using var receiver = new HandoffReceiver(newFd, 5000);
        Assert.That(receiver.Receive(new ushort[] { 2 }, 10_000), Is.Null);
        Assert.That(receiver.Error, Is.EqualTo("state format 1 is not one this binary reads (2)"));
        Assert.That(old.Wait(5000), Is.True);
        Assert.That(old.Result.Accepted, Is.False);
        Assert.That(old.Result.Error, Is.EqualTo("refused: state format 1 is not one this binary reads (2)"));
        Assert.That(OpenDescriptors.OpenedSince(before), Is.Empty, "no descriptor was sent before the Go");
    }

    [Test]
    public void A_receiver_with_too_little_room_is_declined_before_any_descriptor_moves()
    {
        var (oldFd, newFd) = Pair();
        var descriptors = Enumerable.Range(0, 20).Select(i => new HandedDescriptor(DescriptorRole.Alive, (ulong)i, Track(dup(oldFd)))).ToList();
        var old = OldSide(oldFd, 1, new byte[10], descriptors);

        using var receiver = new HandoffReceiver(newFd, 5000);
        Assert.That(receiver.Receive(new ushort[] { 1 }, 10), Is.Null);
        Assert.That(receiver.Error, Does.StartWith("the running daemon declined: 20 descriptors to hand over, room for 10"));
        Assert.That(old.Wait(5000), Is.True);
        Assert.That(old.Result.Accepted, Is.False);
    }

    [Test]
    public void A_receiver_that_goes_away_mid_handoff_ends_it_at_once_on_the_old_side()
    {
        var (oldFd, newFd) = Pair();
        var descriptors = Enumerable.Range(0, 300).Select(i => new HandedDescriptor(DescriptorRole.Alive, (ulong)i, Track(dup(oldFd)))).ToList();
        var old = OldSide(oldFd, 1, new byte[200_000], descriptors);

        // Hello and Go, then take one record and vanish.
        var channel = new HandoffChannel(newFd, 5000);
        var hello = new byte[HandoffWire.MaxHelloLength];
        Assert.That(channel.Send(hello.AsSpan(0, HandoffWire.WriteHello(hello, 10_000, new ushort[] { 1 }))), Is.True);
        Assert.That(channel.Expect(HandoffType.Offer, out _), Is.True, channel.Error);
        Assert.That(channel.SendType(HandoffType.Go), Is.True);
        Assert.That(channel.Expect(HandoffType.Image, out _), Is.True, channel.Error);
        _open.Forget(newFd);
        close(newFd);

        Assert.That(old.Wait(2000), Is.True, "no wait for the deadline");
        Assert.That(old.Result.Accepted, Is.False);
        Assert.That(old.Result.Error, Does.StartWith("send: ").Or.EqualTo("the other process closed the connection"));
    }

    [Test]
    public void A_silent_receiver_costs_the_old_side_its_deadline_and_no_more()
    {
        var (oldFd, newFd) = Pair();
        var task = Task.Run(() =>
        {
            var channel = new HandoffChannel(oldFd, 300);
            return (channel.Receive(out _, out _), channel.Error);
        });
        Assert.That(task.Wait(3000), Is.True);
        Assert.That(task.Result, Is.EqualTo((false, "timed out waiting")));
        GC.KeepAlive(newFd);
    }
}
