// Every syscall failure is survived: strace attaches to the serving thread of the NativeAOT binary
// (the loop runs on the main thread; -p attaches to it alone, so `when=` counts its calls from the
// moment of the attach) and makes one syscall fail with one errno for a window of invocations while
// clients register, look up, list and close. Afterwards, with strace detached: the daemon lives,
// every registration made before is still listed by NAMES, lookups are answered, and the loop is
// idle (utime+stime from /proc/PID/stat). Cases run two at a time, each with its own daemon.
using System.Diagnostics;
using System.Text;

namespace FastEpmd.SystemTests.Faults;

[TestFixture]
[Parallelizable(ParallelScope.Children)]
public class SyscallFaultTests
{
    private const int Registered = 20;

    public static IEnumerable<TestCaseData> Cases()
    {
        // syscall, errno, when (invocations after the attach)
        (string, string, string)[] cases =
        {
            ("accept4", "EMFILE", "1..10"), ("accept4", "ENFILE", "1..10"), ("accept4", "ENOBUFS", "1..10"),
            ("accept4", "ENOMEM", "1..10"), ("accept4", "ECONNABORTED", "1..10"), ("accept4", "EPERM", "1..10"),
            ("accept4", "EPROTO", "1..10"), ("accept4", "EACCES", "1..10"), ("accept4", "EINTR", "1..10"),
            ("recvfrom", "ECONNRESET", "1..10"), ("recvfrom", "ENOMEM", "1..10"), ("recvfrom", "EINTR", "1..10"),
            ("recvfrom", "EAGAIN", "1..10"), ("recvfrom", "ETIMEDOUT", "1..10"),
            ("sendto", "EPIPE", "1..10"), ("sendto", "ECONNRESET", "1..10"), ("sendto", "ENOBUFS", "1..10"),
            ("sendto", "EAGAIN", "1..10"), ("sendto", "EINTR", "1..10"), ("sendto", "ENOMEM", "1..10"),
            ("shutdown", "ENOTCONN", "1..10"),
            ("epoll_ctl", "ENOMEM", "1..10"), ("epoll_ctl", "ENOSPC", "1..10"), ("epoll_ctl", "EBADF", "1..10"),
            // epoll_wait's other errors (EBADF, EFAULT, EINVAL) mean a broken epoll descriptor: the
            // loop exits for systemd to restart it, by design.
            ("epoll_wait", "EINTR", "1..10"),
            ("close", "EINTR", "1..10"), ("close", "EIO", "1..10"), ("close", "EBADF", "1..10"),
            ("mmap", "ENOMEM", "1..10"), ("munmap", "ENOMEM", "1..10"), ("munmap", "EINVAL", "1..10"),
            ("setsockopt", "ENOMEM", "1..10"), ("getpeername", "ENOTCONN", "1..10"),
        };
        foreach (var (syscall, errno, when) in cases)
            yield return new TestCaseData(syscall, errno, when).SetName($"{syscall}_{errno}_when_{when.Replace("..", "_to_")}");
        // epoll_ctl failing where main did not guard it: pausing and resuming a listener after a
        // persistent accept error (EACCES pauses it), and adding a control-socket connection.
        foreach (var errno in new[] { "ENOMEM", "ENOSPC" })
            yield return new TestCaseData("accept4,epoll_ctl", errno, "1..30").SetName($"epoll_ctl_{errno}_while_a_listener_pauses_and_resumes");
    }

    private static byte[] Alive(string name, int port) => Requests.Alive(name, port: port, hi: 6, lo: 5);

    [TestCaseSource(nameof(Cases))]
    public void The_daemon_lives_keeps_every_registration_and_idles_after(string syscall, string errno, string when)
    {
        using var daemon = DaemonProcess.StartFastEpmd("-d");
        var nodes = new List<RawEpmdClient>();
        try
        {
            for (int i = 0; i < Registered; i++)
            {
                var node = daemon.Connect();
                node.Send(Alive($"held{i}", 5000 + i));
                Assert.That(Hex.Format(node.ReadExactly(2)), Is.EqualTo("76 00"), $"held{i} registered");
                nodes.Add(node);
            }

            var inject = syscall == "accept4,epoll_ctl"
                ? new[] { "inject=accept4:error=EACCES:when=1..3", $"inject=epoll_ctl:error={errno}:when={when}" }
                : new[] { $"inject={syscall}:error={errno}:when={when}" };
            using (Strace.Attach(daemon.Pid, $"trace={syscall}", inject))
            {
                Traffic(daemon, rounds: 12);
            }

            Assert.That(daemon.HasExited, Is.False, $"the daemon died under {syscall}={errno}: {daemon.Stderr}");
            AssertServed(daemon);
            long before = ProcessStats.CpuTicks(daemon.Pid);
            Thread.Sleep(1000);
            long ticks = ProcessStats.CpuTicks(daemon.Pid) - before;
            Assert.That(ticks, Is.LessThanOrEqualTo(3), $"CPU ticks in the second after the fault (100 a second is a spin): {ticks}");
            Assert.That(daemon.HasExited, Is.False, daemon.Stderr);
        }
        finally
        {
            foreach (var node in nodes) node.Dispose();
        }
    }

    /// <summary>Registration memory refused: the first ALIVE2 needs fresh pages, mmap fails, the node gets OTP's refusal.</summary>
    [Test]
    public void A_failing_mmap_of_record_memory_refuses_that_registration_only()
    {
        using var daemon = DaemonProcess.StartFastEpmd("-d");
        using (Strace.Attach(daemon.Pid, "trace=mmap", "inject=mmap:error=ENOMEM"))
        {
            using var refused = daemon.Connect();
            refused.Send(Alive("refused", 4000));
            Assert.That(Hex.Format(refused.ReadExactly(6)), Is.EqualTo("76 01 00 00 00 63"), "ALIVE2_X_RESP with result 1 (creation 99), as OTP's refusal");
        }
        const string line = "cannot store registration (Cannot allocate memory), refusing refused";
        var sw = Stopwatch.StartNew();
        while (!daemon.Stderr.Contains(line) && sw.Elapsed < TimeSpan.FromSeconds(3)) Thread.Sleep(20);
        Assert.That(daemon.Stderr, Does.Contain(line), "one level-0 line");
        using var node = daemon.Connect();
        node.Send(Alive("held0", 5000));
        Assert.That(Hex.Format(node.ReadExactly(2)), Is.EqualTo("76 00"), "registers once mmap works again");
        var names = daemon.Request(Requests.Names);
        Assert.That(Encoding.ASCII.GetString(names.Data, 4, names.Data.Length - 4), Is.EqualTo("name held0 at port 5000\n"));
    }

    /// <summary>A start-up descriptor that cannot be made is one line and exit 1, never an abort.</summary>
    [TestCase("eventfd2", "EMFILE")]
    [TestCase("epoll_create1", "ENOMEM")]
    [TestCase("socket", "EMFILE")]
    public void A_failing_start_up_descriptor_is_one_line_and_a_clean_exit(string syscall, string errno)
    {
        int port = Ports.Free();
        using var daemon = DaemonProcess.Start("strace", new[] { "-f", "-qq", "-o", "/dev/null", "-e", $"trace={syscall}", "-e", $"inject={syscall}:error={errno}",
            Binaries.FastEpmd, "-port", port.ToString() }, null, port: port, waitForListen: false);
        int? code = daemon.WaitExit(TimeSpan.FromSeconds(20));
        Assert.That(code, Is.Not.Null, "exits");
        Assert.That(code, Is.AnyOf(0, 1), "exit status (134 = SIGABRT, 139 = SIGSEGV): " + daemon.Stderr);
        Assert.That(daemon.Stderr, Does.Not.Contain("Unhandled exception").And.Not.Contain("FailFast"), daemon.Stderr);
        Assert.That(daemon.Stderr.Trim(), Is.Not.Empty, "says why");
    }

    /// <summary>Registrations, lookups, NAMES and closes, each allowed to fail while the fault lasts.</summary>
    private static void Traffic(DaemonProcess daemon, int rounds)
    {
        var timeout = TimeSpan.FromMilliseconds(400);
        for (int i = 0; i < rounds && !daemon.HasExited; i++)
        {
            Try(() => daemon.Request(Requests.PortPlease("held1"), timeout));
            Try(() => daemon.Request(Requests.Names, timeout));
            Try(() => ControlConnection(daemon.Port));
            Try(() =>
            {
                using var temp = daemon.Connect();
                temp.Send(Alive($"temp{i}", 6000 + i));
                temp.ReadExactly(2, timeout);
            });
        }
    }

    /// <summary>Connects to the -upgrade control socket (@fastepmd-upgrade:PORT) and hangs up: the loop adds that connection to epoll.</summary>
    private static void ControlConnection(int port)
    {
        using var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        s.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint("\0fastepmd-upgrade:" + port));
        Thread.Sleep(5);
    }

    private static void Try(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException or TimeoutException or InvalidOperationException or AssertionException)
        {
        }
    }

    private static void AssertServed(DaemonProcess daemon)
    {
        // Lookups are answered again (a few tries: a listener paused by the fault comes back within 1 s).
        string? found = null;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(3))
        {
            var r = daemon.Request(Requests.PortPlease("held3"), TimeSpan.FromSeconds(1));
            found = Hex.Format(r.Data);
            if (found == Hex.Format(Replies.Port2Found("held3", 5003))) break;
            Thread.Sleep(100);
        }
        Assert.That(found, Is.EqualTo(Hex.Format(Replies.Port2Found("held3", 5003))), "PORT_PLEASE2 answered after the fault");
        var names = daemon.Request(Requests.Names, TimeSpan.FromSeconds(2));
        var text = Encoding.ASCII.GetString(names.Data, Math.Min(4, names.Data.Length), Math.Max(0, names.Data.Length - 4));
        var listed = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var missing = Enumerable.Range(0, Registered).Where(i => !listed.Contains($"name held{i} at port {5000 + i}")).ToList();
        Assert.That(missing, Is.Empty, "every registration still listed by NAMES");
    }

    /// <summary>strace attached to one thread; Dispose detaches it (SIGINT) and waits.</summary>
    private sealed class Strace : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();

        private Strace(Process process) => _process = process;

        public static Strace Attach(int pid, string trace, params string[] injections)
        {
            var argv = new List<string> { "-o", "/dev/null", "-e", trace };
            foreach (var inject in injections) argv.AddRange(new[] { "-e", inject });
            argv.AddRange(new[] { "-p", pid.ToString() });
            var psi = new ProcessStartInfo("strace", argv)
            {
                RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
            };
            var strace = new Strace(Process.Start(psi)!);
            var attached = new ManualResetEventSlim();
            strace._process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (strace._stderr) strace._stderr.AppendLine(e.Data);
                if (e.Data.Contains("attached")) attached.Set();
            };
            strace._process.BeginErrorReadLine();
            if (!attached.Wait(TimeSpan.FromSeconds(10)))
            {
                strace.Dispose();
                Assert.Fail("strace did not attach: " + strace._stderr);
            }
            return strace;
        }

        public void Dispose()
        {
            if (!_process.HasExited) Native.Kill(_process.Id, 2);
            if (!_process.WaitForExit(10_000)) _process.Kill();
            _process.Dispose();
        }
    }
}
