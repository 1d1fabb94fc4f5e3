// Many fixtures run at once and block on sockets and child processes; process output readers and
// async reads use the thread pool. Without a higher minimum the pool grows about one thread a
// second on this 2-core machine, and a stalled client looks like a daemon timing out.
namespace FastEpmd.SystemTests;

[SetUpFixture]
public class TestAssemblySetup
{
    [OneTimeSetUp]
    public void RaiseThreadPoolMinimum()
    {
        ThreadPool.GetMinThreads(out int workers, out int io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(io, 64));
    }
}
