// Comparisons of whole command runs: OTP's epmd and fastepmd must agree byte for byte.
using System.Text;
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Cli;

internal static class CliAssert
{
    /// <summary>Same stdout bytes, same stderr bytes, same exit code.</summary>
    public static void Same(CliOutcome otp, CliOutcome fastEpmd, string what)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CliOutcome.Escape(fastEpmd.Stdout), Is.EqualTo(CliOutcome.Escape(otp.Stdout)), what + ": stdout");
            Assert.That(CliOutcome.Escape(fastEpmd.Stderr), Is.EqualTo(CliOutcome.Escape(otp.Stderr)), what + ": stderr");
            Assert.That(fastEpmd.ExitCode, Is.EqualTo(otp.ExitCode), what + ": exit code");
        });
    }

    /// <summary>An exact expectation, written out from spec section 6.</summary>
    public static void Exactly(CliOutcome outcome, string stdout, string stderr, int exitCode, string what)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CliOutcome.Escape(outcome.Stdout), Is.EqualTo(CliOutcome.Escape(Encoding.UTF8.GetBytes(stdout))), what + ": stdout");
            Assert.That(CliOutcome.Escape(outcome.Stderr), Is.EqualTo(CliOutcome.Escape(Encoding.UTF8.GetBytes(stderr))), what + ": stderr");
            Assert.That(outcome.ExitCode, Is.EqualTo(exitCode), what + ": exit code");
        });
    }

    /// <summary>For output holding a value only the daemon knows (DUMP's fd numbers).</summary>
    public static void Matches(CliOutcome outcome, string stdoutPattern, int exitCode, string what)
    {
        Assert.Multiple(() =>
        {
            Assert.That(Regex.IsMatch(outcome.StdoutText, stdoutPattern), Is.True,
                $"{what}: stdout \"{CliOutcome.Escape(outcome.Stdout)}\" does not match {stdoutPattern}");
            Assert.That(outcome.Stderr, Is.Empty, what + ": stderr");
            Assert.That(outcome.ExitCode, Is.EqualTo(exitCode), what + ": exit code");
        });
    }
}
