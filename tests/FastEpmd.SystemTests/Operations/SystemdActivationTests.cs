// -systemd, tested by doing what systemd does: the test creates the listening socket, passes it
// as fd 3 with LISTEN_FDS/LISTEN_PID, and reads the notifications on a datagram socket.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class SystemdActivationTests
{
    private sealed class ActivatedDaemon : IDisposable
    {
        public required Process Process { get; init; }
        public required Socket Notify { get; init; }
        public required string NotifyPath { get; init; }
        public required int Port { get; init; }

        public string ReadNotification(TimeSpan timeout)
        {
            if (!Notify.Poll((int)timeout.TotalMicroseconds, SelectMode.SelectRead)) return "";
            var buffer = new byte[4096];
            int n = Notify.Receive(buffer);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }

        public void Dispose()
        {
            if (!Process.HasExited) Process.Kill();
            Process.WaitForExit(5000);
            Process.Dispose();
            Notify.Dispose();
            File.Delete(NotifyPath);
        }
    }

    private static ActivatedDaemon Start(string binary, params string[] args)
    {
        int port = Ports.Free();
        var notifyPath = Path.Combine(Path.GetTempPath(), $"fe-notify-{Guid.NewGuid():N}.sock");
        var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        notify.Bind(new UnixDomainSocketEndPoint(notifyPath));
        var psi = new ProcessStartInfo("python3") { RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in SystemdLauncher.Arguments(SystemdLauncher.Loopback4, port, binary, args)) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = notifyPath });
        var process = Process.Start(psi)!;
        process.BeginErrorReadLine();
        return new ActivatedDaemon { Process = process, Notify = notify, NotifyPath = notifyPath, Port = port };
    }

    [Test]
    public void ServesTheSocketOnFd3AndSendsReady()
    {
        using var d = Start(Binaries.FastEpmd, "-systemd");
        var ready = d.ReadNotification(TimeSpan.FromSeconds(10));
        Assert.That(ready, Is.EqualTo($"READY=1\nSTATUS=Processing port mapping requests...\nMAINPID={d.Process.Id}"));

        using (var node = RawEpmdClient.Connect(d.Port))
        {
            node.Send(Requests.Alive("sysd", port: 4242, hi: 6, lo: 5));
            Assert.That(node.ReadExactly(2), Is.EqualTo(Hex.Parse("76 00")));
            node.ReadExactly(4);
            using var q = RawEpmdClient.Connect(d.Port);
            q.Send(Requests.Names);
            var names = q.ReadToEnd();
            // As OTP: NAMES reports the configured port (4369), not the socket's.
            Assert.That(names.HexData, Is.EqualTo(Hex.Format(Hex.Cat(Hex.Parse("00 00 11 11"), Hex.Ascii("name sysd at port 4242\n")))));
        }
    }

    [Test]
    public void SigtermSendsTheExitNoticeAndExitsZero()
    {
        using var d = Start(Binaries.FastEpmd, "-systemd");
        Assert.That(d.ReadNotification(TimeSpan.FromSeconds(10)), Does.StartWith("READY=1\n"));
        Native.Kill(d.Process.Id, Native.SIGTERM);
        Assert.That(d.Process.WaitForExit(5000), Is.True);
        Assert.That(d.Process.ExitCode, Is.EqualTo(0));
        Assert.That(d.ReadNotification(TimeSpan.FromSeconds(2)), Is.EqualTo("STATUS=Exited.\nERRNO=0"));
    }

    [TestCase("otp")]
    [TestCase("fastepmd")]
    public void NoSocketsFromSystemdExitsOneWithOtpsMessage(string which)
    {
        var binary = which == "otp" ? Binaries.Otp : Binaries.FastEpmd;
        var psi = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-systemd");
        psi.Environment.Remove("LISTEN_FDS");
        psi.Environment.Remove("LISTEN_PID");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(5000), Is.True);
        Assert.That(p.ExitCode, Is.EqualTo(1));
        Assert.That(stderr.Result, Does.Match(@"^epmd: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: systemd provides no sockets\r\n$"));
    }
}
