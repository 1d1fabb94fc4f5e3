// epmd -names | -started | -dump | -kill | -stop NAME: the output bytes and exit codes of OTP's
// client (epmd_cli.c), including its quirks, over EpmdClient.
using System.Text;
using FastEpmd.Client;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd;

internal static class ClientCommands
{
    /// <summary>OTP's stop_cli refuses longer names before it connects.</summary>
    public const int MaxStopNameBytes = 1000;

    private const int KillReplyLength = 2;
    private const int StopReplyLength = 7;

    /// <summary>stopName: -stop's name as raw argv bytes; null encodes options.StopName as UTF-8.</summary>
    public static int Run(EpmdOptions options, Stream stdout, Stream stderr, byte[]? stopName = null) => options.Command switch
    {
        EpmdCommand.Names => Call(options, Tags.NamesRequest, silent: false, stdout, stderr),
        EpmdCommand.Started => Call(options, Tags.NamesRequest, silent: true, stdout, stderr),
        EpmdCommand.Dump => Call(options, Tags.DumpRequest, silent: false, stdout, stderr),
        EpmdCommand.Kill => Kill(options, stdout, stderr),
        EpmdCommand.Stop => Stop(options, stopName ?? Encoding.UTF8.GetBytes(options.StopName ?? ""), stdout, stderr),
        _ => throw new ArgumentException("not a client command: " + options.Command, nameof(options)),
    };

    // NAMES and DUMP: the 4-byte port from one read, then everything until the server closes,
    // passed through raw (DUMP lines end in NUL bytes). -started is NAMES with no output at all.
    private static int Call(EpmdOptions options, byte tag, bool silent, Stream stdout, Stream stderr)
    {
        using var client = Connect(options, silent, stderr);
        if (client is null) return 1;
        if (!client.SendRequest(tag, default)) return CannotWrite(stdout);

        // OTP: "if (read(fd, &i, 4) != 4)": one read, so a header split over two segments
        // counts as no response.
        Span<byte> header = stackalloc byte[4];
        if (client.Receive(header) != 4)
        {
            if (!silent) Print(stdout, "epmd: no response from local epmd\n");
            return 1;
        }
        int port = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header);
        if (!silent) Print(stdout, $"epmd: up and running on port {port} with data:\n");

        // The end, or an error, of the stream ends the listing with exit 0.
        var buffer = new byte[8192];
        int n;
        while ((n = client.Receive(buffer)) > 0)
        {
            if (!silent) stdout.Write(buffer, 0, n);
        }
        return 0;
    }

    private static int Kill(EpmdOptions options, Stream stdout, Stream stderr)
    {
        using var client = Connect(options, silent: false, stderr);
        if (client is null) return 1;
        if (!client.SendRequest(Tags.KillRequest, default)) return CannotWrite(stdout);

        Span<byte> reply = stackalloc byte[KillReplyLength];
        int rval = client.ReceiveExactly(reply);
        if (rval == KillReplyLength)
        {
            // Anything but OK, not only NO, reads as a refusal.
            if (reply.SequenceEqual(ShortReplies.KillAccepted))
            {
                Print(stdout, "Killed\n");
                return 0;
            }
            Print(stdout, "Killing not allowed - living nodes in database.\n");
            return 1;
        }
        return ShortAnswer(rval, stdout);
    }

    // OTP measures strlen(argv[i]) and sends those bytes as they are, checked by nobody.
    private static int Stop(EpmdOptions options, byte[] name, Stream stdout, Stream stderr)
    {
        if (name.Length > MaxStopNameBytes)
        {
            Print(stdout, "epmd: Name too long!");   // sic: OTP prints no newline here
            return 1;
        }
        using var client = Connect(options, silent: false, stderr);
        if (client is null) return 1;
        if (!client.SendRequest(Tags.StopRequest, name)) return CannotWrite(stdout);

        // A relaxed daemon answers STOPPED, or NOEXIST then STOPPED; OTP reads only the first 7
        // bytes and prints them with %s, so a NUL among them ends the line early.
        Span<byte> reply = stackalloc byte[StopReplyLength];
        int rval = client.ReceiveExactly(reply);
        if (rval == StopReplyLength)
        {
            int nul = reply.IndexOf((byte)0);
            if (nul >= 0) reply = reply[..nul];
            stdout.Write(reply);
            Print(stdout, "\n");
            return 0;
        }
        return ShortAnswer(rval, stdout);
    }

    private static EpmdClient? Connect(EpmdOptions options, bool silent, Stream stderr)
    {
        var client = EpmdClient.ConnectLocal(options.BindPort);
        if (client is null && !silent) Print(stderr, "epmd: Cannot connect to local epmd\n");
        return client;
    }

    // OTP's read_fill returns 0 (not the count so far) when the stream ends early, and OTP then
    // prints the buffer cut at that count: the angle brackets are always empty, whatever
    // arrived. A non-relaxed daemon closing a STOP silently shows up as "<>".
    private static int ShortAnswer(int rval, Stream stdout)
    {
        Print(stdout, rval < 0
            ? "epmd: failed to read answer from local epmd\n"
            : "epmd: local epmd responded with <>\n");
        return 1;
    }

    // Printed even by -started, as OTP does.
    private static int CannotWrite(Stream stdout)
    {
        Print(stdout, "epmd: Can't write to epmd\n");
        return 1;
    }

    private static void Print(Stream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));
}
