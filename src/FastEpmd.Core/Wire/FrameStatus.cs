namespace FastEpmd.Wire;

internal enum FrameStatus
{
    /// <summary>More bytes are needed.</summary>
    NeedMore,

    /// <summary>Exactly one whole request is buffered.</summary>
    Complete,

    /// <summary>OTP closes without a reply: zero or oversize length, or bytes beyond the frame.</summary>
    Invalid,
}
