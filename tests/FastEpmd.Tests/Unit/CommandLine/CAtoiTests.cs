// glibc atoi, pinned: OTP reads -port, -packet_timeout, -delay_* and ERL_EPMD_PORT with it.
using FastEpmd.CommandLine;

namespace FastEpmd.Tests.Unit.CommandLine;

public class CAtoiTests
{
    [TestCase("4369", 4369)]
    [TestCase("0", 0)]
    [TestCase("", 0)]
    [TestCase("abc", 0)]
    [TestCase("12abc", 12)]
    [TestCase(" \t\n\v\f\r7", 7)]
    [TestCase("+42", 42)]
    [TestCase("-1", -1)]
    [TestCase("- 1", 0)]
    [TestCase("--1", 0)]
    [TestCase("1 2", 1)]
    [TestCase("0x10", 0)]
    [TestCase("007", 7)]
    [TestCase("80000", 80000)]
    [TestCase("2147483647", int.MaxValue)]
    [TestCase("2147483648", int.MinValue)]            // strtol keeps it, the int cast wraps
    [TestCase("4294967296", 0)]                       // OTP prints the usage for -port 4294967296
    [TestCase("4294967297", 1)]
    [TestCase("9223372036854775807", -1)]             // LONG_MAX
    [TestCase("99999999999999999999", -1)]            // saturates at LONG_MAX: OTP accepts it
    [TestCase("-9223372036854775808", 0)]             // LONG_MIN
    [TestCase("-99999999999999999999", 0)]            // saturates at LONG_MIN: usage
    [TestCase("-4294967295", 1)]
    [TestCase("\u00a012", 0)]                         // only C-locale white space is skipped
    [TestCase("\u0661", 0)]                           // only ASCII digits count
    public void Parse_MatchesGlibc(string text, int expected) =>
        Assert.That(CAtoi.Parse(text), Is.EqualTo(expected));
}
