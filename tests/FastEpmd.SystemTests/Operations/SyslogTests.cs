// -daemon logs to syslog as OTP does. This host has no /dev/log, so the test gives the daemon one:
// a private mount namespace (created by the test) whose /dev holds the usual devices plus a "log"
// link to a datagram socket the test reads. Both daemons run through the same setup and their
// lines are compared, with only the syslog timestamp masked.
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class SyslogTests
{
    private static List<string> DaemonSyslog(string binary)
    {
        if (!IsRoot())
            Assert.Ignore("needs root for a private mount namespace (unshare --mount)");
        var dir = Directory.CreateTempSubdirectory("fe-syslog-").FullName;
        int port = Ports.Free();
        var lines = new List<string>();
        try
        {
            using var log = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            log.Bind(new UnixDomainSocketEndPoint(Path.Combine(dir, "log.sock")));
            var script = $"""
                set -e; D={dir}/dev; mkdir -p $D
                for n in null zero urandom random; do touch $D/$n; mount --bind /dev/$n $D/$n; done
                ln -s {dir}/log.sock $D/log
                mount --rbind $D /dev
                exec {binary} -daemon -port {port}
                """;
            var psi = new ProcessStartInfo("unshare") { UseShellExecute = false, RedirectStandardError = true };
            foreach (var a in new[] { "--mount", "--propagation", "private", "sh", "-c", script }) psi.ArgumentList.Add(a);
            EpmdEnvironment.Apply(psi);
            using (var starter = Process.Start(psi)!)
            {
                Assert.That(starter.WaitForExit(15000), Is.True, "epmd -daemon returns");
                Assert.That(starter.ExitCode, Is.EqualTo(0), starter.StandardError.ReadToEnd());
            }
            try
            {
                using var owner = RawEpmdClient.Connect(port);
                owner.Send(Requests.Alive("foo", port: 1042));
                Assert.That(owner.ReadExactly(6), Has.Length.EqualTo(6));
                using (var duplicate = RawEpmdClient.Connect(port))
                {
                    duplicate.Send(Requests.Alive("foo", port: 1042));
                    Assert.That(duplicate.ReadExactly(6), Is.EqualTo(Hex.Parse("76 01 00 00 00 63")));
                }
                using (var kill = RawEpmdClient.Connect(port))
                {
                    kill.Send(Requests.Kill);
                    Assert.That(kill.ReadToEnd().Data, Is.EqualTo("NO"u8.ToArray()));
                }
                owner.Dispose();
                Thread.Sleep(200);
                DaemonModeTests.KillDaemon(port);
            }
            finally
            {
                if (DaemonModeTests.FindDaemon(binary, port) is int pid) Native.Kill(pid, Native.SIGKILL);
            }
            var buffer = new byte[4096];
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (DateTime.UtcNow < deadline && !lines.Any(l => l.Contains("terminates normal")))
            {
                if (!log.Poll(200_000, SelectMode.SelectRead)) continue;
                int n = log.Receive(buffer);
                // "<11>Nov 24 22:19:32 epmd: ..." -> "<11> epmd: ..."
                lines.Add(Regex.Replace(Encoding.UTF8.GetString(buffer, 0, n), @"^(<\d+>)\w{3} [ \d]\d \d\d:\d\d:\d\d ", "$1 "));
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
        return lines;
    }

    private static bool IsRoot() => File.ReadAllText("/proc/self/status").Contains("Uid:\t0\t");

    [Test]
    public void DaemonModeLogsToSyslogAsOtp()
    {
        var otp = DaemonSyslog(Binaries.Otp);
        var ours = DaemonSyslog(Binaries.FastEpmd);
        Assert.That(otp, Is.EqualTo(new[]
        {
            "<11> epmd: epmd: node name already occupied foo",
            "<11> epmd: epmd: Disallowed KILL_REQ, live nodes",
            "<11> epmd: epmd: got KILL_REQ - terminates normal",
        }), "OTP's epmd, the reference");
        Assert.That(ours, Is.EqualTo(otp));
    }
}
