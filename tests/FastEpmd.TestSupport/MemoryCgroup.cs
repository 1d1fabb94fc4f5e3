// A memory cgroup the test creates for a daemon it started, and removes afterwards: cgroup v2 when
// the memory controller is there (memory.max), else the v1 memory hierarchy (memory.limit_in_bytes),
// as a child of the test process's own cgroup so nothing else is touched.
using NUnit.Framework;

namespace FastEpmd.Testing;

public sealed class MemoryCgroup : IDisposable
{
    private readonly List<int> _members = new();

    private MemoryCgroup(string path) => Path = path;

    public string Path { get; }

    public static MemoryCgroup Create(string name, long limitBytes)
    {
        const string v2Root = "/sys/fs/cgroup";
        if (File.Exists(v2Root + "/cgroup.controllers") && File.ReadAllText(v2Root + "/cgroup.controllers").Contains("memory"))
        {
            string own = OwnPath("0::");
            string parent = v2Root + own;
            string dir = System.IO.Path.Combine(parent, name);
            Directory.CreateDirectory(dir);
            File.WriteAllText(dir + "/memory.max", limitBytes.ToString());
            File.WriteAllText(dir + "/memory.swap.max", "0");
            return new MemoryCgroup(dir);
        }
        const string v1Root = "/sys/fs/cgroup/memory";
        if (!File.Exists(v1Root + "/memory.limit_in_bytes"))
            throw new InconclusiveException("no memory cgroup controller (v2 or v1) on this host");
        string v1Own = OwnPath(":memory:");
        string v1Dir = System.IO.Path.Combine(v1Root + v1Own, name);
        Directory.CreateDirectory(v1Dir);
        File.WriteAllText(v1Dir + "/memory.limit_in_bytes", limitBytes.ToString());
        return new MemoryCgroup(v1Dir);
    }

    private static string OwnPath(string marker)
    {
        foreach (var line in File.ReadLines("/proc/self/cgroup"))
        {
            int at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0) return line[(at + marker.Length)..];
        }
        return "/";
    }

    public void Add(int pid)
    {
        File.WriteAllText(Path + "/cgroup.procs", pid.ToString());
        _members.Add(pid);
    }

    public void Dispose()
    {
        // The daemon is ended by its own Dispose first (tracked later, disposed earlier); wait for it.
        for (int i = 0; i < 100; i++)
        {
            try
            {
                Directory.Delete(Path);
                return;
            }
            catch (IOException)
            {
                Thread.Sleep(50);
            }
        }
        Directory.Delete(Path);
    }
}
