// Descriptors whose removal from the poller was refused. Closing one then would leave its
// registration behind whenever another process holds a copy of the socket (the open file lives on,
// and every wait would report its dead token: a spin). So each waits here, still open, and is
// retried after every wait until the poller lets go of it, then closed. A fixed array: when it is
// full, or after MaxTries, the descriptor is closed anyway.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Poller;

namespace FastEpmd.Loop;

internal sealed class PendingCloses
{
    public const int Capacity = 64;

    /// <summary>Retries (one per wait, at least every RetryMs) before a descriptor is closed anyway.</summary>
    public const int MaxTries = 100;

    /// <summary>The loop waits at most this long while any descriptor is pending.</summary>
    public const int RetryMs = 10;

    private readonly int[] _fds = new int[Capacity];
    private readonly int[] _tries = new int[Capacity];

    public int Count { get; private set; }

    /// <summary>Holds fd until the poller lets go of it; false when full (the caller closes it).</summary>
    public bool TryAdd(int fd)
    {
        if (Count == Capacity) return false;
        _fds[Count] = fd;
        _tries[Count] = 0;
        Count++;
        return true;
    }

    /// <summary>Asks the poller again for each; closes those it let go of, and those out of tries (one line).</summary>
    public void Retry(IPoller poller, Log log)
    {
        int abandoned = 0;
        for (int i = Count - 1; i >= 0; i--)
        {
            bool released = poller.Remove(_fds[i]) == 0;
            if (!released && ++_tries[i] < MaxTries) continue;
            if (!released) abandoned++;
            SocketIo.Close(_fds[i]);
            Count--;
            _fds[i] = _fds[Count];
            _tries[i] = _tries[Count];
        }
        if (abandoned > 0 && log.On(0)) log.Write(0, $"closed {abandoned} descriptor(s) that the poller still would not let go of after {MaxTries} tries");
    }

    /// <summary>At the loop's end: one last try each, then every one is closed.</summary>
    public void CloseAll(IPoller poller)
    {
        for (int i = 0; i < Count; i++)
        {
            poller.Remove(_fds[i]);
            SocketIo.Close(_fds[i]);
        }
        Count = 0;
    }
}
