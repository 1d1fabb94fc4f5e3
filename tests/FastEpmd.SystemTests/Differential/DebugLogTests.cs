// The -d lines an operator greps for, against OTP's epmd: the same requests to both daemons, and
// every level-1 line must be identical once the time stamp and the clock-seeded creations are masked.
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Differential;

[TestFixture]
[Category("Differential")]
public class DebugLogTests
{
    private static readonly Regex s_stamp = new(@"^epmd: [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}: ", RegexOptions.Compiled);
    private static readonly Regex s_creation = new(@":\d{6,}'", RegexOptions.Compiled);
    private static readonly Regex s_fd = new(@"file descriptor \d+", RegexOptions.Compiled);
    private static readonly Regex s_v5Creation = new(@":[1-3]'", RegexOptions.Compiled);   // clock-seeded too, but 1..3

    private static string Alive(string name, int port, int hi = 6) => Hex.Format(Requests.Alive(name, port, hi: hi));

    private static List<string> Drive(string binary)
    {
        using var d = DaemonProcess.Start(binary, new[] { "-d", "-relaxed_command_check" }, null);
        void Pause() => Thread.Sleep(100);
        void Query(string hex)
        {
            using var c = d.Connect();
            c.Send(hex);
            c.ReadToEnd(TimeSpan.FromSeconds(5));
            Pause();
        }
        RawEpmdClient Register(string name, int port, int hi = 6)
        {
            var c = d.Connect();
            c.Send(Alive(name, port, hi));
            c.ReadExactly(hi >= 6 ? 6 : 4);
            Pause();
            return c;
        }

        var foo = Register("foo", 1042);
        Query("00 04 7a 666f6f");
        Query("00 04 7a 626172");
        Query("00 01 6e");
        Query("00 01 64");
        var refused = Register("foo", 1043);
        var bar = Register("bar", 1044, hi: 5);
        refused.Dispose();
        Pause();
        foo.Dispose();
        Pause();
        var baz = Register("baz", 1045);
        Query("00 04 73 62617a");
        Query("00 04 73 717578");
        bar.Dispose();
        Pause();
        baz.Dispose();
        Pause();
        Query("00 01 6b");
        d.WaitExit(TimeSpan.FromSeconds(5));
        var lines = d.Stderr.Split('\n')
            .Select(l => l.TrimEnd('\r'))
            .Where(l => s_stamp.IsMatch(l))
            .Select(l => s_fd.Replace(s_v5Creation.Replace(s_creation.Replace(s_stamp.Replace(l, "epmd: T: "), ":CR'"), ":V5'"), "file descriptor N"))
            .ToList();
        // The harness's own connect-and-close probes (start-up, port checks) land wherever their close does.
        lines.RemoveAll(l => l.Contains("got partial packet only", StringComparison.Ordinal));
        return lines;
    }

    [Test]
    public void Level_1_debug_lines_read_as_OTPs()
    {
        var otp = Drive(Binaries.Otp);
        var fast = Drive(Binaries.FastEpmd);
        TestContext.Out.WriteLine("OTP:\n" + string.Join("\n", otp) + "\nFastEpmd:\n" + string.Join("\n", fast));
        Assert.That(otp, Has.Some.Contains("registering 'bar:"), "OTP's log was captured");
        Assert.That(fast, Is.EqualTo(otp));
    }
}
