// SocketIo over real sockets: each errno case classified once, and no SIGPIPE from a send.
using System.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Reactor;

public unsafe class SocketIoTests
{
    private readonly List<int> _fds = new();

    private int Own(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    [TearDown]
    public void CloseAll()
    {
        foreach (int fd in _fds) close(fd);
        _fds.Clear();
    }

    /// <summary>Polls a non-blocking receive until it stops saying WouldBlock (2 s at most).</summary>
    private static IoStatus ReceiveWithin(int fd, Span<byte> buffer, out int n, out int errno)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var status = SocketIo.Receive(fd, buffer, out n, out errno);
            if (status != IoStatus.WouldBlock || watch.Elapsed > TimeSpan.FromSeconds(2)) return status;
            Thread.Sleep(1);
        }
    }

    [Test]
    public void Empty_non_blocking_socket_would_block_with_EAGAIN()
    {
        var (a, _) = Unix();
        var buffer = new byte[16];
        Assert.That(SocketIo.Receive(a, buffer, out int n, out int errno), Is.EqualTo(IoStatus.WouldBlock));
        Assert.That(n, Is.EqualTo(0));
        Assert.That(errno, Is.EqualTo(LibC.EAGAIN));
    }

    [Test]
    public void Empty_accepted_tcp_socket_would_block()
    {
        var (client, fd) = Tcp();
        using var owned = client;
        Assert.That(SocketIo.Receive(fd, new byte[16], out _, out int errno), Is.EqualTo(IoStatus.WouldBlock));
        Assert.That(Errno.IsWouldBlock(errno), Is.True);
    }

    [Test]
    public void Bytes_sent_are_received()
    {
        var (a, b) = Unix();
        Assert.That(SocketIo.Send(a, Hex.Parse("00 01 6e"), endsStream: false, out int sent, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(sent, Is.EqualTo(3));
        var buffer = new byte[16];
        Assert.That(SocketIo.Receive(b, buffer, out int n, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(Hex.Format(buffer.AsSpan(0, n)), Is.EqualTo("00 01 6e"));
    }

    [Test]
    public void Receive_takes_at_most_the_buffer()
    {
        var (a, b) = Unix();
        SocketIo.Send(a, Hex.Parse("01 02 03 04 05"), endsStream: false, out _, out _);
        var buffer = new byte[2];
        Assert.That(SocketIo.Receive(b, buffer, out int n, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(n, Is.EqualTo(2));
        Assert.That(Hex.Format(buffer), Is.EqualTo("01 02"));
    }

    [Test]
    public void Peer_close_is_PeerClosed()
    {
        var (client, fd) = Tcp();
        client.Close();
        Assert.That(ReceiveWithin(fd, new byte[16], out int n, out _), Is.EqualTo(IoStatus.PeerClosed));
        Assert.That(n, Is.EqualTo(0));
    }

    [Test]
    public void Peer_half_close_is_PeerClosed_after_its_data()
    {
        var (client, fd) = Tcp();
        using var owned = client;
        client.Send(Hex.Parse("00 01 6e"));
        client.Shutdown(System.Net.Sockets.SocketShutdown.Send);
        var buffer = new byte[16];
        Assert.That(ReceiveWithin(fd, buffer, out int n, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(n, Is.EqualTo(3));
        Assert.That(ReceiveWithin(fd, buffer, out _, out _), Is.EqualTo(IoStatus.PeerClosed));
    }

    [Test]
    public void Peer_reset_is_Reset_with_ECONNRESET()
    {
        var (client, fd) = Tcp();
        SocketPairs.Reset(client);
        Assert.That(ReceiveWithin(fd, new byte[16], out _, out int errno), Is.EqualTo(IoStatus.Reset));
        Assert.That(errno, Is.EqualTo(LibC.ECONNRESET));
    }

    [Test]
    public void Send_to_a_closed_tcp_peer_ends_in_Reset()
    {
        var (client, fd) = Tcp();
        client.Close();
        // The first send may still be accepted (the peer answers it with an RST); later ones fail.
        var watch = Stopwatch.StartNew();
        IoStatus status;
        int errno;
        do
        {
            status = SocketIo.Send(fd, Hex.Parse("77 01"), endsStream: false, out _, out errno);
            if (status == IoStatus.Done) Thread.Sleep(1);
        }
        while (status == IoStatus.Done && watch.Elapsed < TimeSpan.FromSeconds(2));
        Assert.That(status, Is.EqualTo(IoStatus.Reset));
        Assert.That(errno, Is.EqualTo(LibC.EPIPE).Or.EqualTo(LibC.ECONNRESET));
    }

    [Test]
    public void Send_to_a_closed_peer_raises_no_SIGPIPE()
    {
        // Block SIGPIPE on this thread so that one raised by a send would stay pending where we
        // can see it (the runtime ignores SIGPIPE, which would hide it).
        sigset_t pipe, old, pending;
        sigemptyset(&pipe);
        sigaddset(&pipe, SIGPIPE);
        Assert.That(pthread_sigmask(SIG_BLOCK, &pipe, &old), Is.EqualTo(0));
        try
        {
            Drain(&pipe);
            var (a, b) = Unix();
            close(b);
            _fds.Remove(b);

            Assert.That(SocketIo.Send(a, Hex.Parse("77 01"), endsStream: false, out _, out int errno), Is.EqualTo(IoStatus.Reset));
            Assert.That(errno, Is.EqualTo(LibC.EPIPE));
            sigpending(&pending);
            Assert.That(sigismember(&pending, SIGPIPE), Is.EqualTo(0), "SocketIo.Send raised SIGPIPE");

            // Control: a plain send() does raise it, so the check above can fail.
            byte x = 1;
            Assert.That((long)send(a, &x, 1, 0), Is.EqualTo(-1L));
            sigpending(&pending);
            Assert.That(sigismember(&pending, SIGPIPE), Is.EqualTo(1), "control: plain send raised no SIGPIPE");
        }
        finally
        {
            Drain(&pipe);
            pthread_sigmask(SIG_SETMASK, &old, null);
        }
    }

    private static void Drain(sigset_t* set)
    {
        timespec zero = default;
        while (sigtimedwait(set, null, &zero) > 0)
        {
        }
    }

    /// <summary>The client reads until EOF or an error (2 s at most): what arrived, and how it ended.</summary>
    private static (byte[] Data, string End) ReadToEnd(System.Net.Sockets.Socket client)
    {
        client.ReceiveTimeout = 2000;
        var data = new List<byte>();
        var buffer = new byte[64];
        try
        {
            int n;
            while ((n = client.Receive(buffer)) > 0) data.AddRange(buffer.AsSpan(0, n).ToArray());
            return (data.ToArray(), "eof");
        }
        catch (System.Net.Sockets.SocketException e)
        {
            return (data.ToArray(), e.SocketErrorCode.ToString());
        }
    }

    [Test]
    public void A_held_back_reply_goes_out_with_the_FIN_on_ShutdownWrite()
    {
        var (client, fd) = Tcp();
        using var owned = client;
        client.Send(Hex.Parse("00 01 6e"));
        Assert.That(ReceiveWithin(fd, new byte[16], out int n, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(n, Is.EqualTo(3));

        Assert.That(SocketIo.Send(fd, Hex.Parse("00 00 11 11"), endsStream: true, out int sent, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(sent, Is.EqualTo(4));
        Thread.Sleep(50);
        Assert.That(client.Available, Is.EqualTo(0), "MSG_MORE holds a short reply back until the FIN");

        SocketIo.ShutdownWrite(fd);
        SocketIo.Close(fd);
        _fds.Remove(fd);
        var (data, end) = ReadToEnd(client);
        Assert.That(Hex.Format(data), Is.EqualTo("00 00 11 11"));
        Assert.That(end, Is.EqualTo("eof"));
    }

    /// <summary>
    /// A request read, then a late byte that stays unread, then a reply held back with MSG_MORE:
    /// the state in which a reply that ends the connection meets its close.
    /// </summary>
    private (System.Net.Sockets.Socket Client, int ServerFd) HeldBackReplyWithUnreadLateByte()
    {
        var (client, fd) = Tcp();
        client.Send(Hex.Parse("00 01 6e"));
        Assert.That(ReceiveWithin(fd, new byte[3], out _, out _), Is.EqualTo(IoStatus.Done));
        client.Send(Hex.Parse("41"));
        Thread.Sleep(20);
        Assert.That(SocketIo.Send(fd, Hex.Parse("00 00 11 11"), endsStream: true, out _, out _), Is.EqualTo(IoStatus.Done));
        return (client, fd);
    }

    [Test]
    public void ShutdownWrite_then_close_delivers_the_reply_despite_unread_late_bytes()
    {
        // OTP: a byte that arrives after the request is never read, and the reply still goes out.
        var (client, fd) = HeldBackReplyWithUnreadLateByte();
        using var owned = client;

        SocketIo.ShutdownWrite(fd);
        SocketIo.Close(fd);
        _fds.Remove(fd);
        var (data, _) = ReadToEnd(client);
        Assert.That(Hex.Format(data), Is.EqualTo("00 00 11 11"));
    }

    [Test]
    public void Why_the_close_shuts_down_first_close_alone_loses_a_held_back_reply_to_late_bytes()
    {
        // The kernel behaviour ShutdownWrite exists for: close() with unread input resets the connection
        // and drops what MSG_MORE still holds. If this ever passes the reply, shutting down first is still right.
        var (client, fd) = HeldBackReplyWithUnreadLateByte();
        using var owned = client;

        SocketIo.Close(fd);
        _fds.Remove(fd);
        var (data, end) = ReadToEnd(client);
        Assert.That(data, Is.Empty);
        Assert.That(end, Is.EqualTo(nameof(System.Net.Sockets.SocketError.ConnectionReset)));
    }

    [Test]
    public void Peek_tells_idle_from_data_from_gone_without_consuming()
    {
        var (a, b) = Unix();
        Assert.That(SocketIo.Peek(b), Is.EqualTo(IoStatus.WouldBlock));
        SocketIo.Send(a, Hex.Parse("42"), endsStream: false, out _, out _);
        Assert.That(SocketIo.Peek(b), Is.EqualTo(IoStatus.Done));
        Assert.That(SocketIo.Peek(b), Is.EqualTo(IoStatus.Done), "peek does not consume");
        var buffer = new byte[4];
        Assert.That(SocketIo.Receive(b, buffer, out int n, out _), Is.EqualTo(IoStatus.Done));
        Assert.That(Hex.Format(buffer.AsSpan(0, n)), Is.EqualTo("42"));
        close(a);
        _fds.Remove(a);
        Assert.That(SocketIo.Peek(b), Is.EqualTo(IoStatus.PeerClosed));
    }

    [Test]
    public void Peek_after_a_reset_is_Reset()
    {
        var (client, fd) = Tcp();
        SocketPairs.Reset(client);
        var watch = Stopwatch.StartNew();
        IoStatus status;
        while ((status = SocketIo.Peek(fd)) == IoStatus.WouldBlock && watch.Elapsed < TimeSpan.FromSeconds(2)) Thread.Sleep(1);
        Assert.That(status, Is.EqualTo(IoStatus.Reset));
        // The pending error is reported once, even by a peek; after it the socket reads as closed.
        Assert.That(SocketIo.Peek(fd), Is.EqualTo(IoStatus.PeerClosed));
    }

    [Test]
    public void Bad_descriptor_is_Failed()
    {
        Assert.That(SocketIo.Receive(-1, new byte[4], out _, out int errno), Is.EqualTo(IoStatus.Failed));
        Assert.That(errno, Is.EqualTo(LibC.EBADF));
        Assert.That(SocketIo.Send(-1, new byte[4], endsStream: false, out _, out errno), Is.EqualTo(IoStatus.Failed));
        Assert.That(errno, Is.EqualTo(LibC.EBADF));
    }

    [Test]
    public void Classify_maps_errno_once()
    {
        Assert.Multiple(() =>
        {
            Assert.That(SocketIo.Classify(LibC.EAGAIN), Is.EqualTo(IoStatus.WouldBlock));
            Assert.That(SocketIo.Classify(LibC.EWOULDBLOCK), Is.EqualTo(IoStatus.WouldBlock));
            Assert.That(SocketIo.Classify(LibC.ECONNRESET), Is.EqualTo(IoStatus.Reset));
            Assert.That(SocketIo.Classify(LibC.EPIPE), Is.EqualTo(IoStatus.Reset));
            Assert.That(SocketIo.Classify(LibC.ECONNABORTED), Is.EqualTo(IoStatus.Reset));
            Assert.That(SocketIo.Classify(LibC.ETIMEDOUT), Is.EqualTo(IoStatus.Reset));
            Assert.That(SocketIo.Classify(LibC.EBADF), Is.EqualTo(IoStatus.Failed));
            Assert.That(SocketIo.Classify(LibC.ENOMEM), Is.EqualTo(IoStatus.Failed));
        });
    }

    private (int A, int B) Unix()
    {
        var (a, b) = SocketPairs.Unix();
        return (Own(a), Own(b));
    }

    private (System.Net.Sockets.Socket Client, int ServerFd) Tcp()
    {
        var (client, fd) = SocketPairs.Tcp();
        Own(fd);
        return (client, fd);
    }
}
