// Listener.Open over real sockets: the errno of a failed bind survives the options set around it.
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Reactor;

public unsafe class ListenerTests
{
    [TestCase(0)]
    [TestCase(1)]
    public void Port_in_use_is_EADDRINUSE_with_or_without_defer_accept(int deferSeconds)
    {
        int first = Listener.Open(SocketPairs.Loopback4, 0);
        Assert.That(first, Is.GreaterThanOrEqualTo(0));
        try
        {
            int second = Listener.Open(SocketPairs.Loopback4, (ushort)Listener.LocalPort(first), deferSeconds);
            if (second >= 0) close(second);
            Assert.That(second, Is.EqualTo(-EADDRINUSE));
        }
        finally
        {
            close(first);
        }
    }

    [TestCase(0, 0)]
    [TestCase(1, 1)]
    public void Defer_accept_is_set_on_the_listener_only_when_asked(int deferSeconds, int expectedOn)
    {
        int fd = Listener.Open(SocketPairs.Loopback4, 0, deferSeconds);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        try
        {
            int value = -1;
            socklen_t length = sizeof(int);
            Assert.That(getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &value, &length), Is.EqualTo(0));
            Assert.That(value > 0 ? 1 : 0, Is.EqualTo(expectedOn));
        }
        finally
        {
            close(fd);
        }
    }
}
