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

    public void CloseAll()
    {
        foreach (int fd in _fds) close(fd);
        _fds.Clear();
    }
}
