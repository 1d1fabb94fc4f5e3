// What wakes a poller's wait from another thread: an eventfd under epoll, a pipe under kqueue (the
// BSDs and macOS have pipes everywhere; libkqueue, the kqueue API over epoll, cannot watch an
// eventfd). The poller that owns it watches ReadFd, and drains it when it reports the wake-up, so
// the loop sees one event and never reads a descriptor of the backend's.
using FastEpmd.Interop;
using static Tmds.Linux.LibC;

namespace FastEpmd.Poller;

internal sealed unsafe class Waker : IDisposable
{
    private readonly int _writeFd;

    private Waker(int readFd, int writeFd)
    {
        ReadFd = readFd;
        _writeFd = writeFd;
    }

    /// <summary>The descriptor the poller watches for reading.</summary>
    public int ReadFd { get; }

    /// <summary>The token the poller reports it under.</summary>
    public ulong Token { get; private set; }

    public bool Watched { get; private set; }

    /// <summary>The poller's AddWaker: watches ReadFd for reading under token.</summary>
    public void WatchWith(IPoller poller, ulong token)
    {
        poller.Add(ReadFd, token, PollInterest.Read);
        Token = token;
        Watched = true;
    }

    public static Waker EventFd()
    {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0) throw new ErrnoException("eventfd", Errno.Last);
        return new Waker(fd, fd);
    }

    public static Waker Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) throw new ErrnoException("pipe2", Errno.Last);
        return new Waker(fds[0], fds[1]);
    }

    /// <summary>
    /// Any thread. A full pipe or a saturated eventfd (EAGAIN) already holds a wake-up, so a failed
    /// write loses nothing.
    /// </summary>
    public void Signal()
    {
        ulong one = 1;
        write(_writeFd, &one, ReadFd == _writeFd ? sizeof(ulong) : 1);
    }

    /// <summary>Drains the wake-ups when the first n events hold the waker's: the loop sees the event, never the descriptor.</summary>
    public void DrainIfReported(ReadOnlySpan<PollEvent> events, int n)
    {
        if (!Watched) return;
        for (int i = 0; i < n; i++)
        {
            if (events[i].Token == Token) Drain();
        }
    }

    /// <summary>Consumes every pending wake-up (until EAGAIN), so the descriptor stops being readable.</summary>
    private void Drain()
    {
        ulong buffer;
        while (read(ReadFd, &buffer, sizeof(ulong)) > 0 && ReadFd != _writeFd)
        {
        }
    }

    public void Dispose()
    {
        close(ReadFd);
        if (_writeFd != ReadFd) close(_writeFd);
    }
}
