// The descriptor store through the real binary, with systemd's part played by fake_systemd_store.py:
// a first daemon stores each registration's socket and its state memfd and is SIGKILLed; a second
// one is started with what was stored (LISTEN_FDS/LISTEN_FDNAMES) and must serve the same
// registrations over the same connections. Then each kind of bad state it may be handed.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FastEpmd.SystemTests.Operations;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class SystemdStoreTests
{
    private static JsonElement Run(string mode)
    {
        var script = Path.Combine(Binaries.RepoRoot, "tests", "FastEpmd.SystemTests", "Operations", "fake_systemd_store.py");
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { script, mode, Binaries.FastEpmd, Ports.Free().ToString(CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(40_000), Is.True, "the launcher did not finish");
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), stderr.Result + stdout.Result);
        var result = JsonDocument.Parse(stdout.Result).RootElement;
        TestContext.Out.WriteLine(result.GetProperty("log2").GetString());
        Assert.That(result.GetProperty("stored_ok").GetBoolean(), Is.True,
            "run 1 stored state, alive-1..3 and removed alive-4: " + result.GetProperty("stored_before"));
        return result;
    }

    private static string[] LogLines(JsonElement r) =>
        r.GetProperty("log2").GetString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("fastepmd: serving", StringComparison.Ordinal)).ToArray();

    private static bool Closed(JsonElement r, string node) => r.GetProperty("closed").GetProperty(node).GetBoolean();

    private static bool Found(JsonElement r, string node) => r.GetProperty("port_please").GetProperty(node).GetString()!.StartsWith("7700", StringComparison.Ordinal);

    [Test]
    public void A_killed_daemon_is_replaced_by_one_that_keeps_every_registration_and_connection()
    {
        var r = Run("ok");
        Assert.That(r.GetProperty("stored_before").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "alive-1", "alive-2", "alive-3", "state" }));
        Assert.That(r.GetProperty("names").GetString(), Is.EqualTo("name third at port 7102\nname other at port 7101\nname keep at port 7100\n"));
        Assert.That(r.GetProperty("dump").GetString(), Does.Contain("old/unused name <gone>, port = 7199"));
        foreach (var node in new[] { "keep", "other", "third" })
        {
            Assert.That(Found(r, node), Is.True, node);
            Assert.That(Closed(r, node), Is.False, node + "'s ALIVE connection is the same one");
        }
        Assert.That(LogLines(r), Is.Empty);
        Assert.That(r.GetProperty("log2").GetString(), Does.Contain("3 registrations adopted, 0 dropped"));
        // Sized for the whole table, but only the slots written use memory, also after a restart read it.
        long kib = r.GetProperty("state_kib").GetInt64(), bytes = r.GetProperty("state_bytes").GetInt64();
        TestContext.Out.WriteLine($"state memfd: {bytes} bytes, {kib} KiB resident");
        Assert.That(bytes, Is.GreaterThan(10_000_000));
        Assert.That(kib, Is.LessThan(256));
    }

    [Test]
    public void A_truncated_memfd_starts_empty_with_one_line()
    {
        var r = Run("truncated");
        Assert.That(LogLines(r), Has.Length.EqualTo(1));
        Assert.That(LogLines(r)[0], Does.Contain("state image not used, starting with no registrations (3 stored sockets closed): state image truncated: 100 of"));
        Assert.That(r.GetProperty("names").GetString(), Is.Empty);
        foreach (var node in new[] { "keep", "other", "third" }) Assert.That(Closed(r, node), Is.True, node + " sees its end and can re-register");
        Assert.That(r.GetProperty("store_after").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "state" }),
            "the dropped sockets leave the store; a fresh memfd replaces the bad one");
    }

    [Test]
    public void A_stored_descriptor_that_is_not_a_socket_drops_that_registration()
    {
        var r = Run("notsocket");
        Assert.That(LogLines(r), Has.Length.EqualTo(1));
        Assert.That(LogLines(r)[0], Does.Match("restored registration 'keep' \\(port 7100\\) dropped: fd [0-9]+ is a pipe or FIFO, not a socket"));
        Assert.That(Found(r, "keep"), Is.False);
        Assert.That(Found(r, "other") && Found(r, "third"), Is.True);
        Assert.That(r.GetProperty("store_after").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "alive-2", "alive-3", "state" }));
    }

    [Test]
    public void A_name_in_the_memfd_with_no_descriptor_is_dropped()
    {
        var r = Run("nodescriptor");
        Assert.That(LogLines(r), Has.Length.EqualTo(1));
        Assert.That(LogLines(r)[0], Does.Contain("restored registration 'other' (port 7101) dropped: no descriptor was passed for it"));
        Assert.That(Found(r, "other"), Is.False);
        Assert.That(Closed(r, "other"), Is.True, "no copy of its socket is left open");
        Assert.That(Closed(r, "keep") || Closed(r, "third"), Is.False);
    }

    [Test]
    public void A_descriptor_with_no_name_is_closed_and_its_registration_dropped()
    {
        var r = Run("noname");
        var lines = LogLines(r);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[0], Does.Match("stored descriptor [0-9]+ named \"stored\" names no registration; closed"));
        Assert.That(lines[1], Does.Contain("restored registration 'keep' (port 7100) dropped: no descriptor was passed for it"));
        Assert.That(Closed(r, "keep"), Is.True);
        Assert.That(r.GetProperty("store_after").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "alive-2", "alive-3", "state" }));
    }

    [Test]
    public void A_node_that_sent_a_byte_while_no_daemon_ran_is_dropped()
    {
        var r = Run("dirty");
        Assert.That(LogLines(r).Single(), Does.Contain("restored registration 'other' (port 7101) dropped: its node sent data while no daemon ran"));
        Assert.That(Closed(r, "other"), Is.True);
        Assert.That(Found(r, "keep"), Is.True);
    }
}
