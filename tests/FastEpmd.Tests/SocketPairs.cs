// Real connected sockets for tests that exercise syscalls: an AF_UNIX socketpair, or a loopback
// TCP pair whose server side comes from Listener.Accept. Every wait is bounded.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests;

internal static unsafe class SocketPairs
{
    public static readonly ListenAddress Loopback4 = new(false, new byte[] { 127, 0, 0, 1 }, Implicit: false);

    /// <summary>Two connected non-blocking AF_UNIX stream sockets.</summary>
    public static (int A, int B) Unix()
    {
        int* sv = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            throw new InvalidOperationException("socketpair failed: errno " + errno);
        return (sv[0], sv[1]);
    }

    /// <summary>Two connected non-blocking AF_UNIX SOCK_SEQPACKET sockets (the upgrade control channel's kind).</summary>
    public static (int A, int B) UnixSeqPacket()
    {
        int* sv = stackalloc int[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0)
            throw new InvalidOperationException("socketpair failed: errno " + errno);
        return (sv[0], sv[1]);
    }

    /// <summary>A .NET client socket and the accepted non-blocking server descriptor, over 127.0.0.1.</summary>
    public static (Socket Client, int ServerFd) Tcp()
    {
        int listenFd = Listener.Open(Loopback4, 0);
        if (listenFd < 0) throw new InvalidOperationException("listen failed: errno " + -listenFd);
        try
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.Connect(new IPEndPoint(IPAddress.Loopback, Listener.LocalPort(listenFd)));
            var watch = Stopwatch.StartNew();
            while (true)
            {
                int fd = Listener.Accept(listenFd, out PeerAddress _);
                if (fd >= 0) return (client, fd);
                if (watch.Elapsed > TimeSpan.FromSeconds(5)) throw new TimeoutException("accept");
                Thread.Sleep(1);
            }
        }
        finally
        {
            close(listenFd);
        }
    }

    /// <summary>Closes with an RST instead of a FIN.</summary>
    public static void Reset(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }
}
