// What tests read about a process from /proc: resident memory, open descriptors and CPU time.
using System.Globalization;

namespace FastEpmd.Testing;

public static class ProcessStats
{
    /// <summary>Clock ticks per second for /proc/PID/stat (sysconf(_SC_CLK_TCK) is 100 on Linux).</summary>
    public const double TicksPerSecond = 100.0;

    /// <summary>VmRSS in bytes.</summary>
    public static long RssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            var kb = line.Substring(6).Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"no VmRSS for pid {pid}");
    }

    public static int OpenDescriptors(int pid) => Directory.GetFileSystemEntries($"/proc/{pid}/fd").Length;

    /// <summary>utime + stime in clock ticks.</summary>
    public static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Fields after the parenthesised command name, which may itself hold spaces.
        var fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The CPU share (1.0 = one core) the process used while action ran.</summary>
    public static double CpuShareDuring(int pid, Action action)
    {
        long before = CpuTicks(pid);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        action();
        double seconds = sw.Elapsed.TotalSeconds;
        long after = CpuTicks(pid);
        return (after - before) / TicksPerSecond / seconds;
    }

    public static string MB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture) + " MB";
}
