// One listener's pause after accept errors that persist: 10 ms, doubling to 1 s, back to 10 ms
// after an accept succeeds; and at most one log line a second, carrying the count since the last.
namespace FastEpmd.Loop;

internal sealed class ListenerBackoff
{
    public const int FirstDelayMs = 10;
    public const int MaxDelayMs = 1000;
    public const int LogIntervalMs = 1000;

    private int _delayMs;
    private long _nextLogMs = long.MinValue;
    private int _unlogged;

    /// <summary>When the paused listener is watched again, or -1 when it is not paused.</summary>
    public long ResumeAtMs { get; private set; } = -1;

    public bool Paused => ResumeAtMs >= 0;

    /// <summary>The pause the next failure gets.</summary>
    public int NextDelayMs => _delayMs == 0 ? FirstDelayMs : Math.Min(_delayMs * 2, MaxDelayMs);

    /// <summary>
    /// Records a failed accept at nowMs and pauses the listener. True when a log line is due now;
    /// failures is then how many failed since the last line, this one included.
    /// </summary>
    public bool Fail(long nowMs, out int failures)
    {
        _delayMs = NextDelayMs;
        ResumeAtMs = nowMs + _delayMs;
        _unlogged++;
        failures = _unlogged;
        if (nowMs < _nextLogMs) return false;
        _nextLogMs = nowMs + LogIntervalMs;
        _unlogged = 0;
        return true;
    }

    /// <summary>True when the pause is over at nowMs: the caller watches the listener again.</summary>
    public bool TryResume(long nowMs)
    {
        if (!Paused || nowMs < ResumeAtMs) return false;
        ResumeAtMs = -1;
        return true;
    }

    /// <summary>An accept succeeded: the next failure starts again at the first delay.</summary>
    public void Succeeded() => _delayMs = 0;
}
