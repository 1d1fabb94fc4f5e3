// The usage text must stay byte-identical to OTP 25's (`/usr/bin/epmd -bogus`, stderr).
using System.Security.Cryptography;
using System.Text;
using FastEpmd.CommandLine;

namespace FastEpmd.Tests.Unit.CommandLine;

public class UsageTextTests
{
    [Test]
    public void Text_HasOtpsMd5()
    {
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(UsageText.Text)));
        Assert.That(md5, Is.EqualTo("1666fa98c53465d18229852699ed8538"));
    }

    [Test]
    public void Text_Is57AsciiLinesEndingInNewline()
    {
        Assert.That(UsageText.Text.Count(c => c == '\n'), Is.EqualTo(57));
        Assert.That(UsageText.Text, Does.StartWith("usage: epmd [-d|-debug] [DbgExtra...] [-address List]\n"));
        Assert.That(UsageText.Text, Does.EndWith("        epmd was started).\n"));
        Assert.That(UsageText.Text.All(char.IsAscii), Is.True);
    }

    [Test]
    public void Text_DoesNotMentionFastEpmdsOwnFlags()
    {
        foreach (var flag in new[] { "-max_connections", "-loopback_only", "-request_deadline_ms" })
            Assert.That(UsageText.Text, Does.Not.Contain(flag));
    }
}
