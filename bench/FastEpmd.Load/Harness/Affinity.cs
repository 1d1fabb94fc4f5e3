// Pinning: the daemon under test on one core, the harness (and every child it starts) on the
// others, so the generator never takes the daemon's core and a round measures the daemon alone.
// A forked child inherits the affinity of the thread that forks it, so a daemon is started from
// the harness's thread while that thread is moved, for the fork only, to the daemon's core.
using System.Runtime.InteropServices;

namespace FastEpmd.Load.Harness;

internal static unsafe class Affinity
{
    private const int MaskBytes = 128;   // 1,024 CPUs

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_setaffinity(int pid, nint size, byte* mask);

    [DllImport("libc", SetLastError = true)]
    private static extern int sched_getaffinity(int pid, nint size, byte* mask);

    /// <summary>The core the daemons run on; -1: not pinned (one core, or --no-pin).</summary>
    public static int DaemonCpu { get; private set; } = -1;

    /// <summary>The cores of the harness and its children ("1" on this machine).</summary>
    public static string HarnessCpus { get; private set; } = "";

    private static readonly byte[] s_harnessMask = new byte[MaskBytes];

    public static bool Pinned => DaemonCpu >= 0;

    /// <summary>Daemon on the lowest allowed core, the harness on the rest; every thread of this process moved now.</summary>
    public static void Init(bool enabled)
    {
        byte* mask = stackalloc byte[MaskBytes];
        if (!enabled || sched_getaffinity(0, MaskBytes, mask) != 0) return;
        var cpus = new List<int>();
        for (int cpu = 0; cpu < MaskBytes * 8; cpu++)
        {
            if ((mask[cpu / 8] & (1 << (cpu % 8))) != 0) cpus.Add(cpu);
        }
        if (cpus.Count < 2) return;
        DaemonCpu = cpus[0];
        foreach (int cpu in cpus.Skip(1)) s_harnessMask[cpu / 8] |= (byte)(1 << (cpu % 8));
        HarnessCpus = string.Join(",", cpus.Skip(1));
        // Threads created later inherit the mask of their creator, which is pinned by then.
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), out int tid)) SetMask(tid, s_harnessMask);
        }
    }

    /// <summary>Runs start (a Process.Start) with the calling thread on the daemon's core, so the child is born there.</summary>
    public static T OnDaemonCpu<T>(Func<T> start)
    {
        if (!Pinned) return start();
        var daemonMask = new byte[MaskBytes];
        daemonMask[DaemonCpu / 8] = (byte)(1 << (DaemonCpu % 8));
        SetMask(0, daemonMask);
        try
        {
            return start();
        }
        finally
        {
            SetMask(0, s_harnessMask);
        }
    }

    /// <summary>Cpus_allowed_list of a process, as /proc shows it ("0").</summary>
    public static string AllowedList(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)) return line["Cpus_allowed_list:".Length..].Trim();
            }
        }
        catch (IOException)
        {
        }
        return "?";
    }

    private static void SetMask(int tid, byte[] mask)
    {
        fixed (byte* m = mask)
        {
            if (sched_setaffinity(tid, MaskBytes, m) != 0 && tid == 0)
                throw new InvalidOperationException("sched_setaffinity failed, errno " + Marshal.GetLastPInvokeError());
        }
    }
}
