// Runs an epmd binary as a command (client verbs, usage errors) and keeps its exact output bytes.
using System.Diagnostics;
using System.Text;

namespace FastEpmd.Testing;

/// <summary>What one run of a binary produced: raw stdout and stderr bytes and the exit code.</summary>
public sealed record CliOutcome(byte[] Stdout, byte[] Stderr, int ExitCode)
{
    public string StdoutText => Encoding.UTF8.GetString(Stdout);
    public string StderrText => Encoding.UTF8.GetString(Stderr);

    public override string ToString() =>
        $"exit {ExitCode}, stdout \"{Escape(Stdout)}\", stderr \"{Escape(Stderr)}\"";

    /// <summary>C-style escapes for anything outside printable ASCII, so NULs and CRs show.</summary>
    public static string Escape(byte[] bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        foreach (byte b in bytes)
        {
            if (b == '\n') sb.Append("\\n");
            else if (b == '\r') sb.Append("\\r");
            else if (b == '\\') sb.Append("\\\\");
            else if (b == '"') sb.Append("\\\"");
            else if (b >= 0x20 && b < 0x7f) sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2"));
        }
        return sb.ToString();
    }
}

public static class CliRun
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The ERL_EPMD_* and systemd variables are always cleared first; env entries are then set (null: left unset).</summary>
    public static CliOutcome Run(string binary, IEnumerable<string> args, IDictionary<string, string?>? env = null,
        TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        EpmdEnvironment.Apply(psi, env);

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + binary);
        process.StandardInput.Close();
        var stdout = new MemoryStream();
        var stderr = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout);
        var copyErr = process.StandardError.BaseStream.CopyToAsync(stderr);
        if (!process.WaitForExit((int)(timeout ?? DefaultTimeout).TotalMilliseconds))
        {
            process.Kill(entireProcessTree: false);
            process.WaitForExit(5000);
            throw new TimeoutException($"{binary} {string.Join(' ', args)} did not exit within {timeout ?? DefaultTimeout}");
        }
        // A detached grandchild may hold the pipes open: do not wait for them forever.
        Task.WaitAll(new[] { copyOut, copyErr }, TimeSpan.FromSeconds(5));
        return new CliOutcome(stdout.ToArray(), stderr.ToArray(), process.ExitCode);
    }

    public static CliOutcome Otp(params string[] args) => Run(Binaries.Otp, args);

    public static CliOutcome FastEpmd(params string[] args) => Run(Binaries.FastEpmd, args);
}
