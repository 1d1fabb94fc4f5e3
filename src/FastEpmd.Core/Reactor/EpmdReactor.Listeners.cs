// Listening sockets and their registration with the poller. Each listener has a kind; its token is
// (TokenKind.Listener, index in _listeners). To add a kind: a ListenerKind value, AddListener with
// it, and a case in OnListenerReady. Pausing keeps each listener's own token.
using FastEpmd.Poller;

namespace FastEpmd.Reactor;

/// <summary>What a listening socket serves.</summary>
internal enum ListenerKind : byte
{
    /// <summary>The epmd protocol (port 4369 or -port).</summary>
    Epmd,
}

internal sealed partial class EpmdReactor
{
    private const int ListenerPauseMs = 100;

    private readonly List<(int Fd, ListenerKind Kind)> _listeners = new();
    private long _listenersPausedUntil = -1;

    public void AddListener(int fd, ListenerKind kind = ListenerKind.Epmd)
    {
        _poller.Add(fd, PollToken.Make(TokenKind.Listener, _listeners.Count), PollInterest.Read);
        _listeners.Add((fd, kind));
    }

    private void OnListenerReady(int index)
    {
        var (fd, kind) = _listeners[index];
        switch (kind)
        {
            case ListenerKind.Epmd:
                AcceptFrom(fd);
                break;
        }
    }

    /// <summary>Stops reporting every listener for a moment (out of descriptors, no spare left).</summary>
    private void PauseListeners()
    {
        for (int i = 0; i < _listeners.Count; i++)
            _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.None);
        _listenersPausedUntil = _now + ListenerPauseMs;
    }

    private void ResumeListeners()
    {
        if (_listenersPausedUntil < 0 || _now < _listenersPausedUntil) return;
        _listenersPausedUntil = -1;
        if (_spareFd < 0) _spareFd = Listener.OpenSpare();
        for (int i = 0; i < _listeners.Count; i++)
            _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.Read);
    }

    private void CloseListeners()
    {
        foreach (var (fd, _) in _listeners) SocketIo.Close(fd);
        _listeners.Clear();
    }
}
