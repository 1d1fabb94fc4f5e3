// -systemd with a descriptor that is not a listening TCP socket: one line naming fd 3 and what it
// is, exit 1, no spin. The launcher does systemd's exec step with the wrong kind of fd 3, waits for
// the daemon at most 3 s (killing it if it still runs) and reports its exit and its CPU time.
// utime+stime comes from wait4's rusage, or from /proc when the daemon had to be killed.
using System.Diagnostics;
using System.Globalization;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class SystemdDescriptorTests
{
    private const double WindowSeconds = 3.0;

    private const string Launcher = """
import os, resource, socket, sys, time
kind, argv = sys.argv[1], sys.argv[2:]
keep = []
if kind == "unbound":
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM); fd = s.fileno()
elif kind == "connected":
    l = socket.socket(socket.AF_INET, socket.SOCK_STREAM); l.bind(("127.0.0.1", 0)); l.listen(1)
    c = socket.create_connection(l.getsockname()); s, _ = l.accept(); keep = [l, c]; fd = s.fileno()
elif kind == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); fd = s.fileno()
elif kind == "pipe":
    fd, w = os.pipe(); keep = [os.fdopen(w)]
elif kind == "file":
    fd = os.open("/etc/hostname", os.O_RDONLY)
start = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(fd, 3); os.set_inheritable(3, True)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.execv(argv[0], argv)
# The far ends close: the pipe reads EOF, the connection gets a FIN, so OTP's select() wakes too.
for k in keep: k.close()
os.close(fd)
status, cpu = None, 0.0
while time.monotonic() - start < float(os.environ["WINDOW"]):
    done, st, ru = os.wait4(pid, os.WNOHANG)
    if done:
        status, cpu = st, ru.ru_utime + ru.ru_stime
        break
    time.sleep(0.01)
if status is None:
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    os.kill(pid, 9); os.waitpid(pid, 0)
    print("running", cpu)
elif os.WIFEXITED(status):
    print("exit", os.WEXITSTATUS(status), cpu)
else:
    print("signal", os.WTERMSIG(status), cpu)
""";

    private sealed record Outcome(string How, int Code, double CpuSeconds, string Stderr);

    private static Outcome Run(string binary, string kind)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-c", Launcher, kind, binary, "-systemd" }) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, new Dictionary<string, string?> { ["WINDOW"] = WindowSeconds.ToString(CultureInfo.InvariantCulture) });
        using var p = Process.Start(psi)!;
        // Bounded read: a spinning daemon writes megabytes of log in the window.
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        Assert.That(p.WaitForExit(20_000), Is.True, "launcher did not finish");
        p.WaitForExit();
        var fields = stdout.Result.Trim().Split(' ');
        double cpu = double.Parse(fields[^1], CultureInfo.InvariantCulture);
        int code = fields[0] == "running" ? -1 : int.Parse(fields[1], CultureInfo.InvariantCulture);
        return new Outcome(fields[0], code, cpu, stderr.Result);
    }

    [TestCase("unbound", "an unbound TCP socket")]
    [TestCase("connected", "a connected TCP socket")]
    [TestCase("udp", "a datagram")]
    [TestCase("pipe", "a pipe or FIFO, not a socket")]
    [TestCase("file", "a regular file, not a socket")]
    public void BadDescriptorExitsOneWithOneLine(string kind, string what)
    {
        var o = Run(Binaries.FastEpmd, kind);
        var lines = o.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Multiple(() =>
        {
            Assert.That((o.How, o.Code), Is.EqualTo(("exit", 1)), "stderr: " + Head(o.Stderr));
            Assert.That(o.CpuSeconds / WindowSeconds, Is.LessThan(0.05), "CPU share over the window");
            Assert.That(lines.Length, Is.LessThanOrEqualTo(2), "log lines: " + Head(o.Stderr));
            Assert.That(o.Stderr, Does.Match(
                @"^epmd: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: cannot obtain sockets from systemd: fd 3 is " + System.Text.RegularExpressions.Regex.Escape(what)));
        });
    }

    // OTP finds these out in accept() and exits 1 too (UDP leaves OTP waiting: not compared).
    [TestCase("unbound")]
    [TestCase("connected")]
    [TestCase("pipe")]
    [TestCase("file")]
    public void ExitCodeIsOtps(string kind)
    {
        var otp = Run(Binaries.Otp, kind);
        var ours = Run(Binaries.FastEpmd, kind);
        Assert.That((ours.How, ours.Code), Is.EqualTo((otp.How, otp.Code)));
        Assert.That(otp.Stderr, Does.Contain("error in accept"));
    }

    private static string Head(string s) => s.Length <= 400 ? s : s[..400] + "...";
}
