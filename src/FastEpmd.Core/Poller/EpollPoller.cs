// Linux backend: level-triggered epoll through Tmds.LibC, no shim on the hot path.
using FastEpmd.Interop;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Poller;

internal sealed unsafe class EpollPoller : IPoller
{
    private static readonly int s_read = EPOLLIN | EPOLLRDHUP;
    private static readonly int s_write = EPOLLOUT;
    private static readonly uint s_readBits = (uint)(EPOLLIN | EPOLLPRI);
    private static readonly uint s_writeBits = (uint)EPOLLOUT;
    private static readonly uint s_hangupBits = (uint)(EPOLLHUP | EPOLLRDHUP);
    private static readonly uint s_errorBits = (uint)EPOLLERR;

    private readonly int _epfd;
    private readonly epoll_event* _events;
    private readonly int _capacity;
    private readonly Waker _waker;

    public EpollPoller(int capacity = 256)
    {
        _epfd = epoll_create1(EPOLL_CLOEXEC);
        if (_epfd < 0) throw new ErrnoException("epoll_create1", Errno.Last);
        _capacity = capacity;
        _waker = Waker.EventFd();
        _events = (epoll_event*)System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)(capacity * sizeof(epoll_event)));
    }

    public void Add(int fd, ulong token, PollInterest interest) => Control(EPOLL_CTL_ADD, fd, token, interest);

    public void Modify(int fd, ulong token, PollInterest interest) => Control(EPOLL_CTL_MOD, fd, token, interest);

    // ENOENT (not watched) and EBADF (already closed) both mean there is nothing left to remove.
    public int Remove(int fd)
    {
        epoll_event ev = default;
        if (epoll_ctl(_epfd, EPOLL_CTL_DEL, fd, &ev) == 0) return 0;
        int errno = Errno.Last;
        return errno == Errno.ENOENT || errno == Errno.EBADF ? 0 : errno;
    }

    private void Control(int op, int fd, ulong token, PollInterest interest)
    {
        epoll_event ev = default;
        ev.events = interest switch { PollInterest.Read => s_read, PollInterest.Write => s_write, _ => 0 };
        ev.data.u64 = token;
        if (epoll_ctl(_epfd, op, fd, &ev) != 0)
            throw new ErrnoException(op == EPOLL_CTL_ADD ? "epoll_ctl(ADD)" : "epoll_ctl(MOD)", Errno.Last);
    }

    public void AddWaker(ulong token) => _waker.WatchWith(this, token);

    public void Wake() => _waker.Signal();

    public int Wait(Span<PollEvent> events, int timeoutMs)
    {
        int max = Math.Min(events.Length, _capacity);
        int n = epoll_wait(_epfd, _events, max, timeoutMs);
        if (n < 0)
        {
            int errno = Errno.Last;
            if (errno == Errno.EINTR) return 0;
            throw new ErrnoException("epoll_wait", errno);
        }
        for (int i = 0; i < n; i++)
        {
            uint e = (uint)_events[i].events;
            var flags = PollFlags.None;
            if ((e & s_readBits) != 0) flags |= PollFlags.Read;
            if ((e & s_writeBits) != 0) flags |= PollFlags.Write;
            if ((e & s_hangupBits) != 0) flags |= PollFlags.Hangup;
            if ((e & s_errorBits) != 0) flags |= PollFlags.Error;
            events[i] = new PollEvent { Token = _events[i].data.u64, Flags = flags };
        }
        _waker.DrainIfReported(events, n);
        return n;
    }

    public void Dispose()
    {
        _waker.Dispose();
        close(_epfd);
        System.Runtime.InteropServices.NativeMemory.Free(_events);
    }
}
