// Descriptors a test opened (or received), closed at its TearDown whatever the outcome.
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests;

internal sealed class OpenDescriptors
{
    private readonly List<int> _fds = new();

    public int Track(int fd)
    {
        _fds.Add(fd);
        return fd;
    }

    /// <summary>The test closed it itself.</summary>
    public void Forget(int fd) => _fds.Remove(fd);

    /// <summary>
    /// This process's open descriptors with what each one is ("socket:[4711]"). Leak checks compare
    /// these sets, not counts: a finalizer may close an earlier test's socket at any moment.
    /// </summary>
    public static HashSet<(int Fd, string Target)> Snapshot()
    {
        var open = new HashSet<(int, string)>();
        foreach (var path in Directory.GetFiles("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(path).LinkTarget;
            }
            catch (IOException)
            {
                continue;   // closed while listed
            }
            // The listing's own descriptor on /proc/PID/fd is not the test's.
            if (target is null || (target.StartsWith("/proc/", StringComparison.Ordinal) && target.EndsWith("/fd", StringComparison.Ordinal))) continue;
            open.Add((int.Parse(Path.GetFileName(path)), target));
        }
        return open;
    }

    /// <summary>Descriptors open now that were not open (as the same thing) in the snapshot.</summary>
    public static List<int> OpenedSince(HashSet<(int Fd, string Target)> before) =>
        Snapshot().Where(d => !before.Contains(d)).Select(d => d.Fd).Order().ToList();

    public void CloseAll()
    {
        foreach (int fd in _fds) close(fd);
        _fds.Clear();
    }
}
