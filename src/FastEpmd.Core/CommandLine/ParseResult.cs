// What the command line asks for: options to run with, or an exit code and text to print now.
using FastEpmd.Service;

namespace FastEpmd.CommandLine;

internal sealed record ParseResult(EpmdOptions Options, int? ExitCode, string? Stderr)
{
    public static ParseResult Run(EpmdOptions options) => new(options, null, null);

    /// <summary>OTP prints its usage text on stderr and exits 1 for every command-line error.</summary>
    public static ParseResult Usage(EpmdOptions options) => new(options, 1, UsageText.Text);
}
