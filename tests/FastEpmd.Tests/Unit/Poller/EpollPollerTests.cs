// EpollPoller: EINTR is "no events", never an exception, and readiness comes back with its token.
using System.Diagnostics;
using FastEpmd.Poller;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Poller;

[TestFixture]
[NonParallelizable] // signals a thread of this test process
public unsafe class EpollPollerTests
{
    private const int SysGettid = 186;   // x86_64
    private const int SysTgkill = 234;

    private static bool Catches(int signal)
    {
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("SigCgt:", StringComparison.Ordinal));
        ulong mask = Convert.ToUInt64(line["SigCgt:".Length..].Trim(), 16);
        return (mask & (1UL << (signal - 1))) != 0;
    }

    [Test]
    public void WaitInterruptedByASignalReturnsNoEvents()
    {
        Assume.That(RuntimeInformationIsX64(), "syscall numbers below are x86_64's");
        // Using Process makes the runtime install its SIGCHLD handler: a caught signal makes a
        // blocked epoll_wait return EINTR (epoll_wait is never restarted, whatever SA_RESTART says).
        using (var p = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!) p.WaitForExit();
        int sigchld = SIGCHLD;
        Assert.That(Catches(sigchld), Is.True, "the runtime catches SIGCHLD");

        using var poller = new EpollPoller();
        var events = new PollEvent[8];
        int tid = 0;
        int result = -1;
        Exception? error = null;
        var elapsed = TimeSpan.Zero;
        using var started = new ManualResetEventSlim();
        var waiter = new Thread(() =>
        {
            tid = (int)syscall(SysGettid);
            started.Set();
            var sw = Stopwatch.StartNew();
            try { result = poller.Wait(events, 10_000); }
            catch (Exception e) { error = e; }
            elapsed = sw.Elapsed;
        });
        waiter.Start();
        started.Wait();
        Thread.Sleep(200); // let it block in epoll_wait
        Assert.That((int)syscall(SysTgkill, Environment.ProcessId, tid, sigchld), Is.EqualTo(0));
        Assert.That(waiter.Join(TimeSpan.FromSeconds(5)), Is.True, "the signal ended the wait");
        Assert.That(error, Is.Null);
        Assert.That(result, Is.EqualTo(0), "EINTR reads as a wakeup with no events");
        Assert.That(elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void ReadinessComesBackWithItsToken()
    {
        using var poller = new EpollPoller();
        int* fds = stackalloc int[2];
        Assert.That(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), Is.EqualTo(0));
        try
        {
            poller.Add(fds[0], 0xABCD_0000_0001UL, PollInterest.Read);
            var events = new PollEvent[4];
            Assert.That(poller.Wait(events, 0), Is.EqualTo(0), "nothing to read yet");
            byte b = 42;
            write(fds[1], &b, 1);
            Assert.That(poller.Wait(events, 1000), Is.EqualTo(1));
            Assert.That(events[0].Token, Is.EqualTo(0xABCD_0000_0001UL));
            Assert.That(events[0].Flags.HasFlag(PollFlags.Read), Is.True);
            close(fds[1]);
            fds[1] = -1;
            Assert.That(poller.Wait(events, 1000), Is.EqualTo(1));
            Assert.That(events[0].Flags.HasFlag(PollFlags.Hangup), Is.True, "the peer's close is a hangup");
        }
        finally
        {
            close(fds[0]);
            if (fds[1] >= 0) close(fds[1]);
        }
    }

    private static bool RuntimeInformationIsX64() =>
        System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64;
}
