// Everything the command line and ERL_EPMD_* environment decide, in one immutable record.
namespace FastEpmd.Service;

/// <summary>What the process was asked to do: serve, or run one client command.</summary>
public enum EpmdCommand
{
    Daemon,
    Names,
    Kill,
    Stop,
    Dump,
    Started,
}

public sealed record EpmdOptions
{
    public const int DefaultPort = 4369;

    public EpmdCommand Command { get; init; } = EpmdCommand.Daemon;

    /// <summary>Name for -stop NAME.</summary>
    public string? StopName { get; init; }

    /// <summary>
    /// The configured port, as OTP keeps it: NAMES reports this value even when it does not fit
    /// 16 bits (-port 80000 binds 14464 and reports 80000), and ERL_EPMD_PORT=abc gives 0.
    /// </summary>
    public int Port { get; init; } = DefaultPort;

    /// <summary>The port actually bound: Port truncated to 16 bits, as OTP's htons does.</summary>
    public ushort BindPort => unchecked((ushort)Port);

    /// <summary>-address / ERL_EPMD_ADDRESS tokens, unparsed, in order. Empty: all interfaces.</summary>
    public IReadOnlyList<string> Addresses { get; init; } = Array.Empty<string>();

    public bool RunAsDaemon { get; init; }
    public bool RelaxedCommandCheck { get; init; }
    public int DebugLevel { get; init; }
    public int PacketTimeoutSeconds { get; init; } = 60;
    public int DelayAcceptSeconds { get; init; }
    public int DelayWriteSeconds { get; init; }
    public bool Systemd { get; init; }

    // Beyond OTP (documented in README.md).

    /// <summary>-max_connections N; null derives the table size from RLIMIT_NOFILE.</summary>
    public int? MaxConnections { get; init; }

    /// <summary>-loopback_only: bind only 127.0.0.1 and ::1.</summary>
    public bool LoopbackOnly { get; init; }

    /// <summary>
    /// -defer_accept N: TCP_DEFER_ACCEPT on the listeners, on by default (1 s; 0: off). Every epmd
    /// client speaks first, so the kernel hands a connection over once its request is in, saving a
    /// wakeup, a retried read and an epoll_ctl per query; a client that connects and sends nothing
    /// is accepted only after about N seconds (and its packet timeout starts then).
    /// </summary>
    public int DeferAcceptSeconds { get; init; } = DefaultDeferAcceptSeconds;

    public const int DefaultDeferAcceptSeconds = 1;

    /// <summary>
    /// -accept_batch K: accept up to K connections per listener readiness, stopping at EAGAIN
    /// (1: one per readiness, as OTP). bench/results/FINDINGS.md has the figures behind the default.
    /// </summary>
    public int AcceptBatch { get; init; } = DefaultAcceptBatch;

    public const int DefaultAcceptBatch = 1;
    public const int MaxAcceptBatch = 1024;

    /// <summary>
    /// -request_deadline_ms N: a one-shot connection must have sent its whole request and taken its
    /// whole reply within N ms of accept, however often it sends a byte (slow-loris). Never shorter
    /// than the packet timeout, which stays OTP's idle timer.
    /// </summary>
    public int RequestDeadlineMs { get; init; } = DefaultRequestDeadlineMs;

    public const int DefaultRequestDeadlineMs = 60_000;

    /// <summary>
    /// -reply_memory_mb N: native memory for NAMES/DUMP replies (the current ones and those still
    /// being sent). Never less than two NAMES replies of a table full of registrations.
    /// </summary>
    public int ReplyMemoryMb { get; init; } = DefaultReplyMemoryMb;

    public const int DefaultReplyMemoryMb = 64;

    /// <summary>-metrics ADDRESS:PORT (a bare port: 127.0.0.1): the HTTP metrics listener; null: off.</summary>
    public string? Metrics { get; init; }

    /// <summary>-log_format json: one JSON object per line on stderr instead of OTP's text.</summary>
    public bool JsonLog { get; init; }

    /// <summary>-allow LIST / ERL_EPMD_ALLOW: the non-local peers that may connect; null: anyone.</summary>
    internal PeerAllowList? Allow { get; init; }

    /// <summary>-names local: NAMES answered to local peers only.</summary>
    public bool NamesLocalOnly { get; init; }

    /// <summary>-max_per_peer N: concurrent connections per non-local address (0: no cap).</summary>
    public int MaxPerPeer { get; init; } = DefaultMaxPerPeer;

    public const int DefaultMaxPerPeer = 256;

    /// <summary>
    /// -peer_prefix6 N: -max_per_peer counts IPv6 peers by their first N bits (one host usually
    /// holds a whole /64, and so 2^64 addresses); IPv4 peers and IPv4-mapped ones by address.
    /// </summary>
    public int PeerPrefix6 { get; init; } = DefaultPeerPrefix6;

    public const int DefaultPeerPrefix6 = 64;

    /// <summary>
    /// -upgrade: take the listeners, registrations and their sockets from the daemon running with
    /// the same -port (and -address), over its control socket, instead of opening listeners.
    /// </summary>
    public bool Upgrade { get; init; }
}
