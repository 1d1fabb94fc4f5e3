// The -address rules against both references: each case starts Debian 12's epmd (OTP 25), Debian
// 13's (OTP 27.3.4.1, its root) and FastEpmd, one after the other, in a network namespace of the
// test's own (loopback, and a veth pair whose d0 holds 10.77.0.1 and fd77::1; IPv6 disabled in it for
// the IPv4-only cases), on port 4369 there. The outcome is what an operator sees: whether the
// daemon runs or its exit code, its stderr (OTP's clock masked, FastEpmd's one-line banner left
// out), and the set of addresses listening. Debian 12 and Debian 13 agree on every case; FastEpmd
// must agree with them except where README difference 8 says why not (the wildcard, which both
// Debian releases turn into a silent exit 0), and there it must do what that difference says.
using System.Diagnostics;
using System.Text.RegularExpressions;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Differential;

[TestFixture]
[Category("Differential")]
[Parallelizable(ParallelScope.All)]
public class AddressRulesTests
{
    private const string Loopbacks = "127.0.0.1:4369 [::1]:4369";

    public static IEnumerable<TestCaseData> Cases()
    {
        static TestCaseData Case(string name, bool ipv6, string[] args, string? env, string? fastepmd = null) =>
            new TestCaseData(ipv6, args, env, fastepmd).SetName("Address_" + name);
        var thirteen = string.Join(',', Enumerable.Range(2, 13).Select(i => "127.0.0." + i));
        var fourteen = string.Join(',', Enumerable.Range(2, 14).Select(i => "127.0.0." + i));
        yield return Case("None", true, Array.Empty<string>(), null);
        yield return Case("OnlySeparators", true, new[] { "-address", " , ," }, null);
        yield return Case("ExplicitIpv4Loopback", true, new[] { "-address", "127.0.0.1" }, null);
        yield return Case("ExplicitIpv6Loopback", true, new[] { "-address", "::1" }, null);
        yield return Case("BothLoopbacks", true, new[] { "-address", "127.0.0.1,::1" }, null);
        yield return Case("OtherLoopback", true, new[] { "-address", "127.0.0.2" }, null);
        yield return Case("InterfaceAddresses", true, new[] { "-address", "10.77.0.1 fd77::1" }, null);
        yield return Case("NotOnThisHost", true, new[] { "-address", "10.77.0.9" }, null);
        yield return Case("EnvironmentLoopback", true, Array.Empty<string>(), "127.0.0.1");
        yield return Case("ThirteenExtra", true, new[] { "-address", thirteen }, null);
        yield return Case("FourteenExtra", true, new[] { "-address", fourteen }, null);
        // Both Debian releases bind the implicit loopback first and die silently (exit 0) on the
        // wildcard's EADDRINUSE. FastEpmd serves the wildcard instead of the loopback it covers.
        yield return Case("Ipv4Wildcard", true, new[] { "-address", "0.0.0.0" }, null, fastepmd: "running |  | 0.0.0.0:4369 [::1]:4369");
        yield return Case("Ipv6Wildcard", true, new[] { "-address", "::" }, null, fastepmd: "running |  | 127.0.0.1:4369 [::]:4369");
        yield return Case("BothWildcards", true, new[] { "-address", "0.0.0.0,::" }, null, fastepmd: "running |  | 0.0.0.0:4369 [::]:4369");
        yield return Case("Ipv4WildcardAndInterface", true, new[] { "-address", "0.0.0.0,fd77::1" }, null,
            fastepmd: "running |  | 0.0.0.0:4369 [::1]:4369 [fd77::1]:4369");
        // IPv6 disabled in the namespace: the implicit ::1 fails and is skipped.
        yield return Case("NoIpv6_None", false, Array.Empty<string>(), null);
        yield return Case("NoIpv6_ExplicitIpv4Loopback", false, new[] { "-address", "127.0.0.1" }, null);
        yield return Case("NoIpv6_EnvironmentLoopback", false, Array.Empty<string>(), "127.0.0.1");
        yield return Case("NoIpv6_ExplicitIpv6Loopback", false, new[] { "-address", "::1" }, null);
        yield return Case("NoIpv6_InterfaceAddress", false, new[] { "-address", "10.77.0.1" }, null);
        yield return Case("NoIpv6_Ipv4Wildcard", false, new[] { "-address", "0.0.0.0" }, null, fastepmd: "running | failed to bind on ipaddr ::1: Cannot assign requested address | 0.0.0.0:4369");
    }

    [TestCaseSource(nameof(Cases))]
    public void Outcome(bool ipv6, string[] args, string? env, string? fastepmdDiffers)
    {
        foreach (var r in DebianRelease.All) if (r.Missing.Length > 0) Assert.Fail(r.Missing);
        string debian12 = Run(DebianRelease.Debian12.Epmd, ipv6, args, env);
        string debian13 = Run(DebianRelease.Debian13.Epmd, ipv6, args, env);
        string fast = Run(Binaries.FastEpmd, ipv6, args, env);
        TestContext.Out.WriteLine($"Debian 12: {debian12}\nDebian 13: {debian13}\nFastEpmd:  {fast}");
        Assert.That(debian13, Is.EqualTo(debian12), "Debian 13's epmd handles -address as Debian 12's");
        Assert.That(fast, Is.EqualTo(fastepmdDiffers ?? debian12), fastepmdDiffers is null ? "as both Debian releases" : "README difference 8");
    }

    /// <summary>"running | STDERR | ADDRESSES" or "exit N | STDERR | ADDRESSES", lines joined with " / ".</summary>
    private static string Run(string binary, bool ipv6, string[] args, string? env)
    {
        string ns = $"fe-addr-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28];
        Ip("netns", "add", ns);
        Process? daemon = null;
        try
        {
            if (!ipv6)
            {
                Ip("netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1");
                Ip("netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.disable_ipv6=1");
            }
            Ip("-n", ns, "link", "set", "lo", "up");
            Ip("-n", ns, "link", "add", "d0", "type", "veth", "peer", "name", "d1");
            Ip("-n", ns, "link", "set", "d1", "up");
            Ip("-n", ns, "addr", "add", "10.77.0.1/24", "dev", "d0");
            if (ipv6) Ip("-n", ns, "addr", "add", "fd77::1/64", "dev", "d0", "nodad");
            Ip("-n", ns, "link", "set", "d0", "up");
            var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "netns", "exec", ns, binary }.Concat(args)) psi.ArgumentList.Add(a);
            EpmdEnvironment.Apply(psi, env is null ? null : new Dictionary<string, string?> { ["ERL_EPMD_ADDRESS"] = env });
            daemon = Process.Start(psi)!;
            var stderr = daemon.StandardError.ReadToEndAsync();
            var stdout = daemon.StandardOutput.ReadToEndAsync();
            // Done when it has exited, or when its listeners have stayed the same for 500 ms (Debian
            // 13's, in its chroot, can take seconds to start while many tests run).
            var clock = Stopwatch.StartNew();
            string listening = "", last = "";
            var stable = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(20) && !daemon.HasExited)
            {
                listening = Listening(ns);
                if (listening != last) { last = listening; stable.Restart(); }
                else if (listening.Length > 0 && stable.Elapsed > TimeSpan.FromMilliseconds(500)) break;
                Thread.Sleep(50);
            }
            string state;
            if (daemon.HasExited)
            {
                daemon.WaitForExit();
                state = $"exit {daemon.ExitCode}";
                listening = "";
            }
            else
            {
                state = "running";
                daemon.Kill();
                daemon.WaitForExit(5000);
            }
            stderr.Wait(5000);
            stdout.Wait(5000);
            var output = (stdout.Result + stderr.Result).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Where(l => !l.StartsWith("fastepmd: serving ", StringComparison.Ordinal))
                .Select(l => Regex.Replace(l.TrimEnd('\r'), @"^epmd: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: ", ""));
            return $"{state} | {string.Join(" / ", output)} | {listening}";
        }
        finally
        {
            if (daemon is { HasExited: false }) daemon.Kill();
            daemon?.WaitForExit(5000);
            daemon?.Dispose();
            Ip("netns", "delete", ns);
        }
    }

    /// <summary>The listening TCP addresses in the namespace, sorted: "127.0.0.1:4369 [::1]:4369".</summary>
    private static string Listening(string ns)
    {
        var r = CliRun.Run("ip", new[] { "netns", "exec", ns, "ss", "-Htln" });
        return string.Join(' ', r.StdoutText.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Regex.Split(l.Trim(), @"\s+")[3]).OrderBy(a => a, StringComparer.Ordinal));
    }

    private static void Ip(params string[] args)
    {
        var r = CliRun.Run("ip", args, timeout: TimeSpan.FromSeconds(15));
        if (r.ExitCode != 0) throw new InvalidOperationException($"ip {string.Join(' ', args)}: {r}");
    }
}
