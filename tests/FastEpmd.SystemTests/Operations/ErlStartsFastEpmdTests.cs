// Drop-in: a real `erl -sname` starts FastEpmd by itself and registers with it. erl runs
// "$BINDIR/epmd -daemon" from its own erts bin folder (Debian's erl script sets BINDIR), so the
// test builds a private OTP root whose erts bin/epmd (and bin/epmd, first on PATH) is FastEpmd,
// exactly what installing FastEpmd over OTP's epmd does.
using System.Diagnostics;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[NonParallelizable]
public class ErlStartsFastEpmdTests
{
    private const string OtpRoot = "/usr/lib/erlang";
    private string _root = "";
    private string _fastEpmd = "";

    [OneTimeSetUp]
    public void BuildPrivateOtpRoot()
    {
        _root = Path.Combine(Path.GetTempPath(), $"fe-otp-{Guid.NewGuid():N}");
        var erts = Directory.GetDirectories(OtpRoot, "erts-*").Single();
        var ertsBin = Path.Combine(_root, Path.GetFileName(erts), "bin");
        Directory.CreateDirectory(ertsBin);
        Directory.CreateDirectory(Path.Combine(_root, "bin"));
        foreach (var dir in new[] { "lib", "releases" })
            File.CreateSymbolicLink(Path.Combine(_root, dir), Path.Combine(OtpRoot, dir));
        foreach (var file in Directory.GetFiles(Path.Combine(erts, "bin")))
        {
            if (Path.GetFileName(file) != "epmd") File.CreateSymbolicLink(Path.Combine(ertsBin, Path.GetFileName(file)), file);
        }
        _fastEpmd = Binaries.FastEpmd;
        File.CreateSymbolicLink(Path.Combine(ertsBin, "epmd"), _fastEpmd);
        foreach (var file in Directory.GetFiles(Path.Combine(OtpRoot, "bin")))
        {
            var name = Path.GetFileName(file);
            var target = Path.Combine(_root, "bin", name);
            if (name == "erl")
                File.WriteAllText(target, File.ReadAllText(file).Replace($"ROOTDIR={OtpRoot}", $"ROOTDIR={_root}"));
            else if (name == "epmd")
                File.CreateSymbolicLink(target, _fastEpmd);
            else
                File.CreateSymbolicLink(target, file);
        }
        File.SetUnixFileMode(Path.Combine(_root, "bin", "erl"), (UnixFileMode)0b111_101_101);
    }

    [OneTimeTearDown]
    public void RemovePrivateOtpRoot()
    {
        if (Directory.Exists(_root)) Directory.Delete(_root, recursive: true);
    }

    private static (int ExitCode, string Stdout) RunNode(string erl, int port, string pathPrefix, params string[] extra)
    {
        var psi = new ProcessStartInfo(erl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in extra) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "-sname", $"fe{port}", "-noshell", "-setcookie", "fe",
                     "-eval", "io:format(\"names=~p~n\", [erl_epmd:names()]), halt()." })
            psi.ArgumentList.Add(a);
        psi.Environment["ERL_EPMD_PORT"] = port.ToString();
        psi.Environment["PATH"] = pathPrefix + ":" + Environment.GetEnvironmentVariable("PATH");
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(30000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("erl did not finish");
        }
        return (p.ExitCode, stdout.Result);
    }

    [Test]
    public void ErlSnameStartsFastEpmdInstalledAsEpmd()
    {
        int port = Ports.Free();
        int? daemon = null;
        try
        {
            var node = RunNode(Path.Combine(_root, "bin", "erl"), port, Path.Combine(_root, "bin"));
            daemon = DaemonModeTests.FindDaemon(_fastEpmd, port);
            Assert.That(node.ExitCode, Is.EqualTo(0));
            Assert.That(node.Stdout, Does.Contain($"names={{ok,[{{\"fe{port}\","), "the node registered and listed itself");
            Assert.That(daemon, Is.Not.Null, "erl started FastEpmd (epmd -daemon) and it is still running");
            // The node halted: its registration is gone from the daemon erl started.
            using var c = RawEpmdClient.Connect(port);
            c.Send(Requests.Names);
            Assert.That(c.ReadToEnd().Data, Is.EqualTo(Hex.Parse($"00 00 {port >> 8:x2} {port & 0xff:x2}")));
        }
        finally
        {
            if (daemon is { } pid)
            {
                try { DaemonModeTests.KillDaemon(port); }
                catch (Exception) { Native.Kill(pid, Native.SIGKILL); }
            }
        }
    }

    [Test]
    public void ErlEpmdFlagStartsFastEpmd()
    {
        int port = Ports.Free();
        int? daemon = null;
        try
        {
            var node = RunNode("erl", port, "", "-epmd", $"{_fastEpmd} -daemon");
            daemon = DaemonModeTests.FindDaemon(_fastEpmd, port);
            Assert.That(node.ExitCode, Is.EqualTo(0));
            Assert.That(node.Stdout, Does.Contain($"names={{ok,[{{\"fe{port}\","));
            Assert.That(daemon, Is.Not.Null);
        }
        finally
        {
            if (daemon is { } pid)
            {
                try { DaemonModeTests.KillDaemon(port); }
                catch (Exception) { Native.Kill(pid, Native.SIGKILL); }
            }
        }
    }
}
