// A non-local peer without leaving loopback: a dual-stack IPv6 listener on ::ffff:127.0.0.1 sees
// a client bound to 127.0.0.X (X != 1) as ::ffff:127.0.0.X, which is neither ::1 nor the
// socket's own address, so OTP's rule (local: 127.0.0.0/8, ::1 or the socket's own address) calls it non-local. This is how systemd's
// dual-stack sockets see such a client.
using System.Net;
using System.Net.Sockets;
using Tmds.Linux;

namespace FastEpmd.Tests.Loop;

internal static class MappedLoopback
{
    /// <summary>Adds a dual-stack listener to the harness's reactor; returns its port.</summary>
    public static int AddListener(LoopHarness h)
    {
        using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp) { DualMode = true };
        s.Bind(new IPEndPoint(IPAddress.Parse("::ffff:127.0.0.1"), 0));
        s.Listen(512);
        int port = ((IPEndPoint)s.LocalEndPoint!).Port;
        // The reactor owns (and closes) its listeners: give it a copy, non-blocking as it needs.
        int fd = LibC.dup((int)s.SafeHandle.DangerousGetHandle());
        if (fd < 0) throw new InvalidOperationException("dup: errno " + LibC.errno);
        int flags = LibC.fcntl(fd, LibC.F_GETFL);
        LibC.fcntl(fd, LibC.F_SETFL, flags | LibC.O_NONBLOCK);
        h.Epmd.AddListener(fd);
        return port;
    }

    /// <summary>A client from 127.0.0.last to 127.0.0.1:port, tracked by the caller.</summary>
    public static Socket Connect(int port, byte last)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            s.Bind(new IPEndPoint(new IPAddress(new byte[] { 127, 0, 0, last }), 0));
            s.Connect(new IPEndPoint(IPAddress.Loopback, port));
        }
        catch
        {
            s.Dispose();
            throw;
        }
        return s;
    }
}
