// The debug log line as OTP writes it: "epmd: <ctime>: <message>\r\n", ctime from libc (local time).
using System.Globalization;
using System.Text.RegularExpressions;
using FastEpmd.Diagnostics;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Tests.Unit.Diagnostics;

public unsafe class LogTests
{
    [Test]
    public void Level_0_lines_on_stderr_are_written_whole_and_allocate_nothing()
    {
        // A flood of refusals (duplicate names, refused KILL) is logged at level 0: it must not
        // grow the heap. stderr goes to a pipe for the test, so the lines can be read back.
        var log = new Log(0);
        byte[] name = "anchor"u8.ToArray();
        var (output, allocated) = StderrCapture.Run(
            () => log.Write(0, "node name already occupied ", name),
            () => log.Write(0, "node name already occupied ", name), 100);
        var lines = output.Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.StartsWith("epmd: ", StringComparison.Ordinal)).ToList();
        Assert.That(lines, Has.Count.EqualTo(101));
        Assert.That(lines, Has.All.Match(@"^epmd: \w{3} \w{3} [ 1-3]\d \d\d:\d\d:\d\d \d{4}: node name already occupied anchor$"));
        Assert.That(allocated, Is.EqualTo(0), "bytes allocated by 100 level-0 lines");
    }

    [Test]
    public void WriteAll_delivers_every_byte_and_reports_a_closed_reader_as_EPIPE()
    {
        // The loop under both stderr (errors dropped) and the client's stdout (IOException).
        int* fds = stackalloc int[2];
        Assert.That(pipe(fds), Is.EqualTo(0));
        var bytes = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        Assert.That(DescriptorStream.WriteAll(fds[1], bytes), Is.EqualTo(0));
        var got = new byte[4096];
        long n;
        fixed (byte* g = got) n = read(fds[0], g, (size_t)got.Length);
        Assert.That(got.AsSpan(0, (int)n).SequenceEqual(bytes), Is.True);

        close(fds[0]);
        Assert.That(DescriptorStream.WriteAll(fds[1], bytes), Is.EqualTo(EPIPE));
        Assert.Throws<IOException>(() => new DescriptorStream(fds[1]).Write(bytes));
        close(fds[1]);
    }

    [Test]
    public void The_time_is_ctime_without_the_newline_in_local_time()
    {
        var lines = new List<string>();
        var log = new Log(0, lines.Add);
        var before = DateTime.Now;
        log.Write(0, "x");
        var after = DateTime.Now;
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.StartWith("epmd: ").And.EndWith(": x\r\n"));
        string text = lines[0]["epmd: ".Length..^": x\r\n".Length];

        Assert.That(text, Does.Match(@"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [ 1-3]\d \d\d:\d\d:\d\d \d{4}$"));
        // The same instant as .NET's local clock, formatted as C's ctime() does (day padded with a space).
        string Format(DateTime t) => string.Create(CultureInfo.InvariantCulture, $"{t:ddd MMM} {t.Day,2} {t:HH:mm:ss yyyy}");
        Assert.That(text, Is.EqualTo(Format(before)).Or.EqualTo(Format(after)));
    }

    [Test]
    public void A_line_is_epmd_ctime_message_crlf_and_only_at_its_level()
    {
        var lines = new List<string>();
        var log = new Log(1, lines.Add);
        log.Write(1, "hello");
        log.Write(2, "too verbose");
        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0], Does.Match(@"^epmd: \w{3} \w{3} [ 1-3]\d \d\d:\d\d:\d\d \d{4}: hello\r\n$"));
        Assert.That(Regex.IsMatch(lines[0], "too verbose"), Is.False);
    }
}
