// The shim's four kqueue calls (fe_kq_*), as KqueuePoller makes them. By default they are the linked
// shim's: kqueue on BSD and macOS, -ENOSYS on Linux. A caller may instead pass the same four
// functions from another build of fe_kqueue.c, loaded by address; the tests do, with one built
// against libkqueue (the kqueue API over epoll), so the kqueue backend runs on Linux too.
namespace FastEpmd.Interop;

internal readonly unsafe struct KqueueCalls
{
    private readonly delegate* unmanaged<int> _create;
    private readonly delegate* unmanaged<int, int, ulong, uint, int> _set;
    private readonly delegate* unmanaged<int, int, int> _remove;
    private readonly delegate* unmanaged<int, NativePollEvent*, int, int, int> _wait;

    /// <summary>The functions fe_kq_create, fe_kq_set, fe_kq_remove and fe_kq_wait at these addresses (none may be 0).</summary>
    public KqueueCalls(nint create, nint set, nint remove, nint wait)
    {
        if (create == 0 || set == 0 || remove == 0 || wait == 0) throw new ArgumentException("a kqueue function address is 0");
        _create = (delegate* unmanaged<int>)create;
        _set = (delegate* unmanaged<int, int, ulong, uint, int>)set;
        _remove = (delegate* unmanaged<int, int, int>)remove;
        _wait = (delegate* unmanaged<int, NativePollEvent*, int, int, int>)wait;
    }

    /// <summary>The linked shim's (default(KqueueCalls) is the same).</summary>
    public static KqueueCalls Linked => default;

    public bool IsLinked => _create == null;

    /// <summary>A kqueue descriptor, or -errno.</summary>
    public int Create() => _create == null ? Shim.KqueueCreate() : _create();

    /// <summary>Watches fd for the interest bits (1 read, 2 write, 0 neither) with token; 0 or -errno.</summary>
    public int Set(int kq, int fd, ulong token, uint interest) => _set == null ? Shim.KqueueSet(kq, fd, token, interest) : _set(kq, fd, token, interest);

    /// <summary>Stops watching fd (not watched is success); 0 or -errno.</summary>
    public int Remove(int kq, int fd) => _remove == null ? Shim.KqueueRemove(kq, fd) : _remove(kq, fd);

    /// <summary>Waits up to timeoutMs (-1 forever); the number of events (0 on EINTR) or -errno.</summary>
    public int Wait(int kq, NativePollEvent* events, int capacity, int timeoutMs) =>
        _wait == null ? Shim.KqueueWait(kq, events, capacity, timeoutMs) : _wait(kq, events, capacity, timeoutMs);
}
