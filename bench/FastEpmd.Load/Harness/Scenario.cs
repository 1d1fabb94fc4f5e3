// A scenario sets up "arms" (a daemon with its registrations and a workload); the runner drives
// them alternately, round after round, in one invocation, so a noisy machine hits both alike.
namespace FastEpmd.Load.Harness;

internal sealed class Settings
{
    public bool Quick { get; init; }
    public string FastEpmdPath { get; init; } = "";
    public string? OtpPath { get; init; }

    /// <summary>The bare epoll server (bench/floor), run beside the two where the kernel dominates.</summary>
    public string? FloorPath { get; init; }
    public int Rounds { get; init; } = 3;
    public TimeSpan PacedRound { get; init; } = TimeSpan.FromSeconds(1.5);
    public TimeSpan ClosedRound { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.3);
    public int StartupSamples { get; init; } = 5;

    /// <summary>Offered rate of the query-like scenarios (ops/s), the same for both daemons.</summary>
    public double QueryRate { get; init; } = 8000;
}

/// <summary>One daemon under one scenario, with what it owns and what it measured.</summary>
internal sealed class Arm(string label, Daemon? daemon, Workload? workload) : IDisposable
{
    public string Label { get; } = label;
    public Daemon? Daemon { get; } = daemon;
    public Workload? Workload { get; } = workload;
    public DaemonKind Kind => Daemon?.Kind ?? DaemonKind.Otp;
    public List<IDisposable> Owned { get; } = new();
    public List<RoundResult> Paced { get; } = new();
    public List<RoundResult> Closed { get; } = new();

    /// <summary>Why this arm measured nothing (OTP refused the connections), shown in the report.</summary>
    public string? Refused { get; set; }

    public string? Note { get; set; }
    public long RssAfterSetupKb { get; set; } = -1;
    public long PeakRssKb { get; set; } = -1;
    public int Registered { get; set; }

    public bool Runnable => Daemon != null && Workload != null && Refused == null;

    public void Dispose()
    {
        for (int i = Owned.Count - 1; i >= 0; i--) Owned[i].Dispose();
        Daemon?.Dispose();
    }
}

internal abstract class Scenario
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract int Concurrency { get; }

    /// <summary>The paced offered load (ops/s), the same for every arm.</summary>
    public abstract double Rate(Settings settings);

    public abstract List<Arm> Setup(Settings settings);

    protected static IEnumerable<DaemonKind> Kinds(Settings s) =>
        s.OtpPath is null ? new[] { DaemonKind.FastEpmd } : new[] { DaemonKind.FastEpmd, DaemonKind.Otp };

    /// <summary>Both daemons and, when built, the kernel floor: for the scenarios that are mostly TCP work.</summary>
    protected static IEnumerable<DaemonKind> KindsWithFloor(Settings s) =>
        s.FloorPath is null ? Kinds(s) : Kinds(s).Append(DaemonKind.Floor);

    protected static string PathOf(Settings s, DaemonKind kind) => kind switch
    {
        DaemonKind.FastEpmd => s.FastEpmdPath,
        DaemonKind.Floor => s.FloorPath!,
        _ => s.OtpPath!,
    };
}
