// A differential sequence: steps over several numbered connections, run once against OTP's epmd
// and once against FastEpmd. Every step writes one transcript line; the two transcripts must be
// equal, and the OTP transcript must also match the expectation written next to each step (so a
// harness that records nothing, or a spec misreading, cannot pass OTP-vs-OTP by accident).
using System.Text;

namespace FastEpmd.SystemTests.Differential;

internal sealed class DiffSequence
{
    public const int DefaultReadMs = 5000;
    public const int DefaultQuietMs = 300;

    /// <summary>A read that waits for the -packet_timeout 3 sweep: OTP closes after about 4 s.</summary>
    public const int PacketTimeoutReadMs = 7000;

    private readonly List<DiffStep> _steps = new();
    private int _nextTemp = 100;

    public DiffSequence(string name, params string[] args)
    {
        Name = name;
        Args = args.Length == 0 ? new[] { "-packet_timeout", "3" } : args;
    }

    public string Name { get; }

    /// <summary>Daemon flags, the same for both daemons ("-port P" is prepended by DaemonProcess).</summary>
    public string[] Args { get; }

    public Dictionary<string, string?>? Env { get; private set; }

    public IReadOnlyList<DiffStep> Steps => _steps;

    public override string ToString() => Name;

    public DiffSequence WithEnv(string name, string? value)
    {
        Env ??= new Dictionary<string, string?>();
        Env[name] = value;
        return this;
    }

    private DiffSequence Add(string describe, string? expect, Func<DiffSide, string> run)
    {
        _steps.Add(new DiffStep(describe, expect is null ? null : DiffRender.Canon(expect), run));
        return this;
    }

    /// <summary>Opens connection k to the daemon's port on host (127.0.0.1 or ::1).</summary>
    public DiffSequence Open(int k, string host = "127.0.0.1") =>
        Add($"c{k} open {host}", "open", side => side.Open(k, host));

    /// <summary>Sends bytes in one write (one segment on loopback with TCP_NODELAY).</summary>
    public DiffSequence Send(int k, byte[] bytes) =>
        Add($"c{k} send {DiffRender.Abbrev(bytes)}", null, side => side.Send(k, bytes, 0));

    public DiffSequence Send(int k, string hex) => Send(k, Hex.Parse(hex));

    /// <summary>Sends bytes one at a time with a pause between them, so the daemon sees many reads.</summary>
    public DiffSequence SendSplit(int k, byte[] bytes, int delayMs = 3) =>
        Add($"c{k} send byte by byte {DiffRender.Abbrev(bytes)}", null, side => side.Send(k, bytes, delayMs));

    /// <summary>Reads until the daemon closes or the deadline passes: "bytes | closed" or "bytes | open".</summary>
    public DiffSequence Read(int k, string expect, int timeoutMs = DefaultReadMs) =>
        Add($"c{k} read until close ({timeoutMs} ms)", expect, side => side.Read(k, int.MaxValue, timeoutMs));

    /// <summary>Reads exactly n bytes (the ALIVE2 reply on a kept socket); "bytes" or "bytes | closed|open" if short.</summary>
    public DiffSequence ReadN(int k, int n, string expect, int timeoutMs = DefaultReadMs) =>
        Add($"c{k} read {n} bytes", expect, side => side.Read(k, n, timeoutMs));

    /// <summary>Nothing arrives and the connection stays open for ms.</summary>
    public DiffSequence Quiet(int k, int ms = DefaultQuietMs) =>
        Add($"c{k} quiet for {ms} ms", "(none) | open", side => side.Read(k, int.MaxValue, ms));

    /// <summary>shutdown(SHUT_WR): the daemon reads EOF, we can still read.</summary>
    public DiffSequence HalfClose(int k) => Add($"c{k} half-close", null, side => side.HalfClose(k));

    public DiffSequence Close(int k) => Add($"c{k} close", null, side => side.Close(k, reset: false));

    /// <summary>Close with SO_LINGER 0, so the daemon gets an RST.</summary>
    public DiffSequence Reset(int k) => Add($"c{k} reset", null, side => side.Close(k, reset: true));

    public DiffSequence Sleep(int ms) => Add($"sleep {ms} ms", null, _ =>
    {
        Thread.Sleep(ms);
        return "slept";
    });

    /// <summary>A one-shot request on a fresh connection: open, send, read until close.</summary>
    public DiffSequence Request(byte[] bytes, string expect, int timeoutMs = DefaultReadMs)
    {
        int k = _nextTemp++;
        return Add($"c{k} one-shot {DiffRender.Abbrev(bytes)}", expect, side => side.OneShot(k, bytes, timeoutMs));
    }

    public DiffSequence Request(string hex, string expect) => Request(Hex.Parse(hex), expect);

    public DiffSequence Names(string expect) => Request(Requests.Names, expect);

    public DiffSequence Dump(string expect) => Request(Requests.Dump, expect);

    /// <summary>
    /// Polls NAMES until "name NAME at port" is gone (unregistering after a close is asynchronous).
    /// Records "gone NAME" or "still registered NAME"; the NAMES bytes themselves come from a later step.
    /// </summary>
    public DiffSequence AwaitGone(string name, int timeoutMs = 4000) =>
        Add($"await {name} unregistered", $"gone {name}", side => side.AwaitGone(name, timeoutMs));

    /// <summary>"exited N" if the daemon exits within the timeout, else "running".</summary>
    public DiffSequence Exit(string expect, int timeoutMs = 3000) =>
        Add($"daemon exit within {timeoutMs} ms", expect, side => side.WaitExit(timeoutMs));

    public DiffSequence Running() => Exit("running", 200);
}

internal sealed record DiffStep(string Describe, string? Expect, Func<DiffSide, string> Run)
{
    /// <summary>Where Debian 13's epmd (OTP 27 with the 2026 packet-timeout change) does otherwise.</summary>
    public string? ExpectDebian13 { get; init; }

    public string? ExpectFor(Reference.DebianRelease release) =>
        release == Reference.DebianRelease.Debian13 && ExpectDebian13 is not null ? ExpectDebian13 : Expect;
}

/// <summary>Expected-reply builders: text is turned into hex here, tokens stay as they are.</summary>
internal static class X
{
    public const string Port = "<port>";
    public const string Fd = "<fd>";
    public const string Cr32 = "<cr32>";
    public const string Cr16 = "<cr16>";
    public const string None = "(none)";
    public const string Closed = "(none) | closed";
    public const string Open = "(none) | open";

    /// <summary>Hex of the UTF-8 bytes of s.</summary>
    public static string T(string s) => Hex.Format(Encoding.UTF8.GetBytes(s));

    public static string Closing(params string[] parts) => string.Join(' ', parts.Where(p => p.Length > 0)) + " | closed";

    /// <summary>NAMES reply: port header, then "name N at port P\n" per node, newest first.</summary>
    public static string Names(params (string Name, int Port)[] nodes) =>
        Closing(Port, T(string.Concat(nodes.Select(n => $"name {n.Name} at port {n.Port}\n"))));

    /// <summary>ALIVE2 success replies, with the creation normalised.</summary>
    public static string V(string creation = Cr32) => "76 00 " + creation;

    public static string Y(string creation = Cr16) => "79 00 " + creation;

    public const string VErr = "76 01 00 00 00 63";
    public const string YErr = "79 01 00 63";

    /// <summary>PORT2_RESP found: 77 00 port type proto hi lo nlen name elen extra, then close.</summary>
    public static string W(int port, byte type, byte proto, int hi, int lo, byte[] name, byte[] extra) =>
        Closing(Hex.Format(Hex.Cat(new byte[] { 0x77, 0x00 }, Hex.U16(port), new[] { type, proto }, Hex.U16(hi), Hex.U16(lo),
            Hex.U16(name.Length), name, Hex.U16(extra.Length), extra)));

    public static string W(int port, string name, int hi = 6, int lo = 5, byte type = 77) =>
        W(port, type, 0, hi, lo, Hex.Utf8(name), Array.Empty<byte>());

    public const string WMissing = "77 01 | closed";

    public static string DumpActive(string name, int port) =>
        string.Join(' ', T($"active name     <{name}> at port {port}, fd = "), Fd, T("\n\0"));

    public static string DumpOld(string name, int port) =>
        string.Join(' ', T($"old/unused name <{name}>, port = {port}, fd = "), Fd, T(" \n\0"));

    public static string Dump(params string[] lines) => Closing(Port, string.Join(' ', lines));
}
