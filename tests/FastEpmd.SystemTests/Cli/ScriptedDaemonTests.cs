// The client's reactions to answers no real epmd gives: both clients talk to the same script
// (one fresh ScriptedDaemon each), must send the same request bytes and print the same output.
using System.Text;

namespace FastEpmd.SystemTests.Cli;

[Category("Cli")]
public class ScriptedDaemonTests
{
    private static CliOutcome Both(string command, int requestLength, bool reset, string expectedRequestHex,
        params string[] chunks)
    {
        var byteChunks = chunks.Select(Encoding.Latin1.GetBytes).ToArray();
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            using var script = ScriptedDaemon.Answer(requestLength, reset, byteChunks);
            var args = new[] { "-port", script.Port.ToString() }.Concat(command.Split(' ')).ToArray();
            outcomes.Add(CliRun.Run(client, args));
            Assert.That(Hex.Format(script.Request), Is.EqualTo(expectedRequestHex), client + " request bytes");
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd " + command);
        return outcomes[1];
    }

    private const string Names = "00 01 6e";
    private const string Dump = "00 01 64";
    private const string Kill = "00 01 6b";
    private const string StopFoo = "00 04 73 66 6f 6f";

    [Test]
    public void Kill_OneByteThenClose_EmptyAngleBrackets()
    {
        var fast = Both("-kill", 3, false, Kill, "O");
        CliAssert.Exactly(fast, "epmd: local epmd responded with <>\n", "", 1, "fastepmd");
    }

    [Test]
    public void Kill_Reset_FailedToRead()
    {
        var fast = Both("-kill", 3, true, Kill);
        CliAssert.Exactly(fast, "epmd: failed to read answer from local epmd\n", "", 1, "fastepmd");
    }

    [TestCase("NO")]
    [TestCase("OX")]
    [TestCase("ok")]
    public void Kill_AnyTwoBytesButOk_NotAllowed(string answer)
    {
        var fast = Both("-kill", 3, false, Kill, answer);
        CliAssert.Exactly(fast, "Killing not allowed - living nodes in database.\n", "", 1, "fastepmd");
    }

    [Test]
    public void Kill_OkInTwoSegments_Killed()
    {
        var fast = Both("-kill", 3, false, Kill, "O", "K");
        CliAssert.Exactly(fast, "Killed\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_FourBytesThenClose_EmptyAngleBrackets()
    {
        // OTP's read_fill returns 0, not 4, so nothing of "STOP" is printed.
        var fast = Both("-stop foo", 6, false, StopFoo, "STOP");
        CliAssert.Exactly(fast, "epmd: local epmd responded with <>\n", "", 1, "fastepmd");
    }

    [Test]
    public void Stop_NulInsideTheSevenBytes_CutsTheLine()
    {
        var fast = Both("-stop foo", 6, false, StopFoo, "AB\0CDEFGH");
        CliAssert.Exactly(fast, "AB\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_AnswerInPieces_FirstSevenBytesOnly()
    {
        var fast = Both("-stop foo", 6, false, StopFoo, "NO", "EXISTST", "OPPED");
        CliAssert.Exactly(fast, "NOEXIST\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_NonUtf8Name_IsSentAsRawBytes()
    {
        // Process.Start can only pass UTF-8, so a shell builds the argument from octal escapes.
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            using var script = ScriptedDaemon.Answer(8, false, "STOPPED"u8.ToArray());
            outcomes.Add(CliRun.Run("/bin/sh",
                new[] { "-c", "exec \"$0\" -port \"$1\" -stop \"$(printf 'ab\\377\\300cd')\"", client, script.Port.ToString() }));
            Assert.That(Hex.Format(script.Request), Is.EqualTo("00 07 73 61 62 ff c0 63 64"), client + " request bytes");
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd -stop ab\\377\\300cd");
        CliAssert.Exactly(outcomes[1], "STOPPED\n", "", 0, "fastepmd");
    }

    [Test]
    public void Stop_1000NonUtf8Bytes_IsNotTooLong()
    {
        var outcomes = new List<CliOutcome>();
        foreach (var client in new[] { Binaries.Otp, Binaries.FastEpmd })
        {
            outcomes.Add(CliRun.Run("/bin/sh",
                new[] { "-c", "exec \"$0\" -port \"$1\" -stop \"$(head -c 1000 /dev/zero | tr '\\000' '\\377')\"", client, Ports.Free().ToString() }));
        }
        CliAssert.Same(outcomes[0], outcomes[1], "epmd -stop <1000 x 0xff>");
        CliAssert.Exactly(outcomes[1], "", "epmd: Cannot connect to local epmd\n", 1, "fastepmd");
    }

    [Test]
    public void Stop_Reset_FailedToRead()
    {
        var fast = Both("-stop foo", 6, true, StopFoo);
        CliAssert.Exactly(fast, "epmd: failed to read answer from local epmd\n", "", 1, "fastepmd");
    }

    [Test]
    public void Names_CloseWithoutHeader_NoResponse()
    {
        var fast = Both("-names", 3, false, Names);
        CliAssert.Exactly(fast, "epmd: no response from local epmd\n", "", 1, "fastepmd");
    }

    [Test]
    public void Names_HeaderSplitOverTwoSegments_NoResponse()
    {
        // OTP reads the header with one read(fd, &i, 4).
        var fast = Both("-names", 3, false, Names, "\0\0", "\x11\x11name x at port 1\n");
        CliAssert.Exactly(fast, "epmd: no response from local epmd\n", "", 1, "fastepmd");
    }

    [Test]
    public void Started_CloseWithoutHeader_SilentExit1()
    {
        var fast = Both("-started", 3, false, Names);
        CliAssert.Exactly(fast, "", "", 1, "fastepmd");
    }

    [Test]
    public void Names_NegativePortHeader_PrintedSigned()
    {
        var fast = Both("-names", 3, false, Names, "\xff\xff\xff\xfe", "abc\0def");
        CliAssert.Exactly(fast, "epmd: up and running on port -2 with data:\nabc\0def", "", 0, "fastepmd");
    }

    [Test]
    public void Dump_ResetAfterData_KeepsWhatArrived_Exit0()
    {
        var fast = Both("-dump", 3, true, Dump, "\0\0\x11\x11", "abc");
        CliAssert.Exactly(fast, "epmd: up and running on port 4369 with data:\nabc", "", 0, "fastepmd");
    }

    [Test]
    public void Dump_BinaryBody_PassedThroughRaw()
    {
        var body = new string(Enumerable.Range(0, 256).Select(i => (char)i).ToArray());
        var fast = Both("-dump", 3, false, Dump, "\0\0\x11\x11" + body);
        Assert.That(fast.Stdout.AsSpan(fast.Stdout.Length - 256).ToArray(),
            Is.EqualTo(Enumerable.Range(0, 256).Select(i => (byte)i).ToArray()));
    }
}
