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

    /// <summary>The -metrics HTTP responder (EpmdReactor.Metrics); not an epmd listener.</summary>
    Metrics,
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
            case ListenerKind.Epmd when fd >= 0:
                AcceptFrom(fd);
                break;
            case ListenerKind.Metrics when fd >= 0:
                AcceptMetrics(fd);
                break;
        }
    }

    /// <summary>Stops reporting every listener for a moment (out of descriptors, no spare left).</summary>
    private void PauseListeners()
    {
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Fd >= 0)
                _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.None);
        }
        _listenersPausedUntil = _now + ListenerPauseMs;
    }

    private void ResumeListeners()
    {
        if (_listenersPausedUntil < 0 || _now < _listenersPausedUntil) return;
        _listenersPausedUntil = -1;
        if (_spareFd < 0) _spareFd = Listener.OpenSpare();
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Fd >= 0)
                _poller.Modify(_listeners[i].Fd, PollToken.Make(TokenKind.Listener, i), PollInterest.Read);
        }
    }

    /// <summary>
    /// Closes the listeners of one kind; their entries stay (fd -1) so the others keep their tokens.
    /// At shutdown the epmd ones close first, and the metrics listener still answers /healthz 503.
    /// </summary>
    private void CloseListeners(ListenerKind kind)
    {
        for (int i = 0; i < _listeners.Count; i++)
        {
            if (_listeners[i].Kind != kind || _listeners[i].Fd < 0) continue;
            SocketIo.Close(_listeners[i].Fd);
            _listeners[i] = (-1, kind);
        }
    }
}
