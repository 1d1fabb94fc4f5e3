// The debug log line as OTP writes it: "epmd: <ctime>: <message>\r\n", ctime from libc (local time).
using System.Globalization;
using System.Text.RegularExpressions;
using FastEpmd.Diagnostics;

namespace FastEpmd.Tests.Unit.Diagnostics;

public class LogTests
{
    [Test]
    public void CTimeNow_is_ctime_without_the_newline_in_local_time()
    {
        var before = DateTime.Now;
        string text = Log.CTimeNow();
        var after = DateTime.Now;

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
