// What /proc says about a process: CPU (utime+stime from /proc/PID/stat, in clock ticks; and the
// scheduler's nanosecond runtime summed over threads, as a finer cross-check) and memory.
namespace FastEpmd.Load.Harness;

internal readonly record struct CpuSample(long Ticks, long SchedNs)
{
    public static CpuSample operator -(CpuSample a, CpuSample b) => new(a.Ticks - b.Ticks, a.SchedNs - b.SchedNs);

    public double Seconds => (double)Ticks / Native.ClockTicks;
}

internal static class ProcStats
{
    /// <summary>utime + stime of the whole process (all threads), and the summed schedstat runtime.</summary>
    public static CpuSample Cpu(int pid) => new(StatTicks(pid), SchedNs(pid));

    public static long StatTicks(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return 0;
        }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        var fields = text.AsSpan(text.LastIndexOf(')') + 2).ToString().Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }

    public static long SchedNs(int pid)
    {
        long total = 0;
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                try
                {
                    var text = File.ReadAllText(Path.Combine(task, "schedstat"));
                    total += long.Parse(text.AsSpan(0, text.IndexOf(' ')));
                }
                catch (IOException)
                {
                    // thread gone between listing and reading
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return total;
    }

    /// <summary>A kB field of /proc/PID/status (VmRSS, VmHWM), or -1.</summary>
    public static long StatusKb(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
                var value = line.AsSpan(field.Length + 1).Trim();
                return long.Parse(value[..value.IndexOf(' ')]);
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }

    public static int Threads(int pid) => (int)Math.Max(0, StatusKbLike(pid, "Threads"));

    private static long StatusKbLike(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field + ":", StringComparison.Ordinal)) return long.Parse(line.AsSpan(field.Length + 1).Trim());
            }
        }
        catch (IOException)
        {
        }
        return -1;
    }
}
