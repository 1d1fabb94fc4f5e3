// SCM_RIGHTS over real socketpairs: descriptors arrive as working copies, close-on-exec, and every
// errno path ends in a status (EAGAIN, a gone peer, too many descriptors, a cut control buffer).
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Interop;

public unsafe class DescriptorPassingTests
{
    private readonly OpenDescriptors _open = new();

    [TearDown]
    public void CloseAll() => _open.CloseAll();

    private (int A, int B) Pair()
    {
        var (a, b) = SocketPairs.UnixSeqPacket();
        _open.Track(a);
        _open.Track(b);
        return (a, b);
    }

    private int Track(int fd) => _open.Track(fd);

    [Test]
    public void Descriptors_arrive_with_their_record_as_working_close_on_exec_copies()
    {
        var (a, b) = Pair();
        var (carriedA, carriedB) = Pair();
        Assert.That(DescriptorPassing.Send(a, "hello"u8, new[] { carriedA }, out int errno), Is.EqualTo(IoStatus.Done), Errno.Describe(errno));

        var data = new byte[64];
        var fds = new int[4];
        Assert.That(DescriptorPassing.Receive(b, data, fds, out int n, out int count, out errno), Is.EqualTo(IoStatus.Done));
        Track(fds[0]);
        Assert.That(data.AsSpan(0, n).ToArray(), Is.EqualTo("hello"u8.ToArray()));
        Assert.That(count, Is.EqualTo(1));
        Assert.That(fds[0], Is.Not.EqualTo(carriedA));
        Assert.That(fcntl(fds[0], F_GETFD, 0) & FD_CLOEXEC, Is.EqualTo(FD_CLOEXEC));

        // The copy is the same socket: what goes in at its peer comes out of it.
        byte x = 0x78;
        Assert.That((long)send(carriedB, &x, 1, 0), Is.EqualTo(1));
        byte got = 0;
        Assert.That(UnixSocket.Wait(fds[0], forWrite: false, 2000), Is.True);
        Assert.That((long)recv(fds[0], &got, 1, 0), Is.EqualTo(1));
        Assert.That(got, Is.EqualTo(x));
    }

    [Test]
    public void A_full_batch_of_SCM_MAX_FD_descriptors_goes_in_one_message_and_one_more_is_EINVAL()
    {
        var (a, b) = Pair();
        var many = new int[DescriptorPassing.MaxPerMessage + 1];
        for (int i = 0; i < many.Length; i++) many[i] = Track(dup(a));
        Assert.That(DescriptorPassing.Send(a, "x"u8, many, out int errno), Is.EqualTo(IoStatus.Failed));
        Assert.That(errno, Is.EqualTo(Errno.EINVAL));

        Assert.That(DescriptorPassing.Send(a, "x"u8, many.AsSpan(0, DescriptorPassing.MaxPerMessage), out errno), Is.EqualTo(IoStatus.Done), Errno.Describe(errno));
        var fds = new int[DescriptorPassing.MaxPerMessage];
        Assert.That(DescriptorPassing.Receive(b, new byte[8], fds, out _, out int count, out _), Is.EqualTo(IoStatus.Done));
        for (int i = 0; i < count; i++) Track(fds[i]);
        Assert.That(count, Is.EqualTo(DescriptorPassing.MaxPerMessage));
    }

    [Test]
    public void Receive_on_an_empty_socket_would_block()
    {
        var (_, b) = Pair();
        Assert.That(DescriptorPassing.Receive(b, new byte[8], new int[1], out _, out _, out int errno), Is.EqualTo(IoStatus.WouldBlock));
        Assert.That(Errno.IsWouldBlock(errno), Is.True);
    }

    [Test]
    public void Receive_after_the_peer_closed_is_PeerClosed_and_send_to_it_is_a_gone_peer()
    {
        var (a, b) = SocketPairs.UnixSeqPacket();
        Track(a);
        close(b);
        Assert.That(DescriptorPassing.Receive(a, new byte[8], new int[1], out _, out _, out _), Is.EqualTo(IoStatus.PeerClosed));
        Assert.That(DescriptorPassing.Send(a, "x"u8, default, out int errno), Is.EqualTo(IoStatus.Reset));
        Assert.That(errno, Is.EqualTo(Errno.EPIPE));
    }

    [Test]
    public void Descriptors_beyond_the_receivers_room_are_closed_on_arrival_and_none_is_left_open()
    {
        var (a, b) = Pair();
        var sent = new[] { Track(dup(a)), Track(dup(a)), Track(dup(a)), Track(dup(a)) };
        Assert.That(DescriptorPassing.Send(a, "x"u8, sent, out _), Is.EqualTo(IoStatus.Done));
        var before = OpenDescriptors.Snapshot();
        var fds = new int[1];
        Assert.That(DescriptorPassing.Receive(b, new byte[8], fds, out _, out int count, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(count, Is.EqualTo(1), "the record's count then disagrees with its entries, and the handoff refuses it");
        Assert.That(OpenDescriptors.OpenedSince(before), Is.EqualTo(new[] { fds[0] }), "only the one kept is open");
        Track(fds[0]);
    }

    [Test]
    public void A_record_longer_than_the_buffer_is_EMSGSIZE_not_a_short_record()
    {
        var (a, b) = Pair();
        Assert.That(DescriptorPassing.Send(a, new byte[100], default, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(DescriptorPassing.Receive(b, new byte[10], new int[1], out _, out _, out int errno), Is.EqualTo(IoStatus.Failed));
        Assert.That(errno, Is.EqualTo(Errno.EMSGSIZE));
    }

    [Test]
    public void Sending_on_a_descriptor_that_is_not_a_socket_fails_with_ENOTSOCK()
    {
        int* pipe = stackalloc int[2];
        Assert.That(pipe2(pipe, O_CLOEXEC), Is.Zero);
        Track(pipe[0]);
        Track(pipe[1]);
        Assert.That(DescriptorPassing.Send(pipe[1], "x"u8, default, out int errno), Is.EqualTo(IoStatus.Failed));
        Assert.That(errno, Is.EqualTo(Errno.ENOTSOCK));
    }
}
