// A scenario sets up "arms" (a daemon with its registrations and a workload); the runner drives
// them alternately, round after round, in one invocation, so a noisy machine hits both alike.
namespace FastEpmd.Load.Harness;

internal sealed class Settings
{
    public bool Quick { get; init; }

    /// <summary>The repository's root: the report names binaries relative to it.</summary>
    public string Root { get; init; } = "";

    /// <summary>/proc/loadavg's 1, 5 and 15 minute averages when the run started.</summary>
    public string LoadAtStart { get; init; } = "";
    public string FastEpmdPath { get; init; } = "";
    public string? OtpPath { get; init; }

    /// <summary>The bare epoll server (bench/floor), run beside the two where the kernel dominates.</summary>
    public string? FloorPath { get; init; }
    /// <summary>FastEpmd arms: one per variant (--variants), each with its own extra flags; the first is the one judged.</summary>
    public IReadOnlyList<IReadOnlyList<string>> FastEpmdVariants { get; init; } = new[] { Array.Empty<string>() };

    /// <summary>Tail cells (the query cells): rounds and round length, the basis of every tail figure.</summary>
    public int Rounds { get; init; } = 5;
    public TimeSpan PacedRound { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>Cost cells (CPU/request only, no tail figures): fewer, shorter rounds.</summary>
    public int CostRounds { get; init; } = 3;
    public TimeSpan CostRound { get; init; } = TimeSpan.FromSeconds(1.5);

    public TimeSpan ClosedRound { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.3);
    public int StartupSamples { get; init; } = 5;

    /// <summary>Burst rounds (each: every N against every daemon, rotated) and the N values.</summary>
    public int BurstRounds { get; init; } = 5;
    public IReadOnlyList<int> BurstSizes { get; init; } = new[] { 1000, 5000, 15000 };

    /// <summary>Tail figures and verdicts need at least this many rounds; fewer (the quick run) prints none.</summary>
    public const int MinTailRounds = 5;

    /// <summary>A path inside the repository as the repository sees it (out/fastepmd); others unchanged.</summary>
    public string Relative(string path)
    {
        if (Root.Length == 0) return path;
        string relative = Path.GetRelativePath(Root, Path.GetFullPath(path));
        return relative.StartsWith("..", StringComparison.Ordinal) ? path : relative;
    }

    public bool TailsMeaningful => Rounds >= MinTailRounds && PacedRound.TotalSeconds >= 6 - 1e-9;

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

    /// <summary>A tail cell runs the full rounds (Settings.Rounds x PacedRound) and reports tails; the others report cost only.</summary>
    public virtual bool TailCell => false;

    /// <summary>A closed-loop round per arm after the paced rounds (ops/s as fast as the harness drives it).</summary>
    public virtual bool ClosedLoop => false;

    public virtual int RoundsFor(Settings s) => TailCell ? s.Rounds : s.CostRounds;
    public TimeSpan RoundFor(Settings s) => TailCell ? s.PacedRound : s.CostRound;

    public abstract List<Arm> Setup(Settings settings);

    /// <summary>Every FastEpmd variant, then OTP's epmd when installed.</summary>
    public static IEnumerable<DaemonSpec> Daemons(Settings s)
    {
        foreach (var args in s.FastEpmdVariants)
            yield return new DaemonSpec(DaemonKind.FastEpmd, s.FastEpmdPath, args, Daemon.Describe(DaemonKind.FastEpmd, args));
        if (s.OtpPath != null) yield return new DaemonSpec(DaemonKind.Otp, s.OtpPath, Array.Empty<string>(), Daemon.Describe(DaemonKind.Otp));
    }

    /// <summary>Both daemons and, when built, the kernel floor: for the scenarios that are mostly TCP work.</summary>
    public static IEnumerable<DaemonSpec> DaemonsWithFloor(Settings s) =>
        s.FloorPath is null ? Daemons(s)
            : Daemons(s).Append(new DaemonSpec(DaemonKind.Floor, s.FloorPath, Array.Empty<string>(), Daemon.Describe(DaemonKind.Floor)));
}
