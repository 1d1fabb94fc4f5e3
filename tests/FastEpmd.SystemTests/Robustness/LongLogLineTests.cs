// Log lines stay valid whatever they carry: a STOP with a 3,000-byte name (not UTF-8, or UTF-8 of
// 3-byte characters) under -d makes a message longer than the 4 KiB line. Each JSON line must be
// one JSON object in valid UTF-8 on one line, saying it was cut; each text line valid UTF-8 ending
// in CRLF. Read as raw bytes from the NativeAOT binary's stderr (a string would hide bad bytes).
// Before lines were cut at character boundaries, the JSON line ended inside a U+FFFD.
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class LongLogLineTests
{
    private static byte[] Stop(byte[] name)
    {
        var frame = new byte[3 + name.Length];
        frame[0] = (byte)((name.Length + 1) >> 8);
        frame[1] = (byte)(name.Length + 1);
        frame[2] = (byte)'s';
        name.CopyTo(frame, 3);
        return frame;
    }

    private static readonly byte[] NotUtf8 = Enumerable.Repeat((byte)0xFF, 3000).ToArray();
    private static readonly byte[] ThreeByteCharacters = Encoding.UTF8.GetBytes(new string('\u20AC', 1000));

    /// <summary>Runs the daemon with stderr in a file, sends both STOPs, checks it still serves, returns stderr's bytes.</summary>
    private static byte[] StderrAfterLongStops(string format)
    {
        string file = Path.Combine(Path.GetTempPath(), $"fastepmd-mem-log-{Environment.ProcessId}-{format}.log");
        try
        {
            int port = Ports.Free();
            var command = $"exec '{Binaries.FastEpmd}' -port {port} -d -relaxed_command_check -log_format {format} 2>'{file}'";
            using (var daemon = DaemonProcess.Start("/bin/bash", new[] { "-c", command }, null, port: port))
            {
                foreach (var name in new[] { NotUtf8, ThreeByteCharacters })
                {
                    var reply = daemon.Request(Stop(name));
                    Assert.That(Encoding.ASCII.GetString(reply.Data), Is.EqualTo("NOEXISTSTOPPED"), "STOP of an unknown name");
                }
                using var node = daemon.Connect();
                node.Send(Requests.Alive("after", port: 4242, hi: 6, lo: 5));
                Assert.That(Hex.Format(node.ReadExactly(2)), Is.EqualTo("76 00"), "still registering");
                Assert.That(daemon.HasExited, Is.False);
            }
            return File.ReadAllBytes(file);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Test]
    public void A_json_line_longer_than_the_line_buffer_is_one_valid_object_that_says_it_was_cut()
    {
        var bytes = StderrAfterLongStops("json");
        Assert.That(bytes[^1], Is.EqualTo((byte)'\n'));
        var lines = Split(bytes, "\n"u8.ToArray());
        Assert.That(lines, Has.Count.GreaterThan(5));
        int cut = 0;
        foreach (var line in lines)
        {
            Assert.That(Utf8.IsValid(line), Is.True, "valid UTF-8: " + Encoding.Latin1.GetString(line));
            using var doc = JsonDocument.Parse(line);
            Assert.That(doc.RootElement.ValueKind, Is.EqualTo(JsonValueKind.Object));
            if (doc.RootElement.TryGetProperty("cut", out var c) && c.GetBoolean()) cut++;
            Assert.That(line.Length, Is.LessThanOrEqualTo(4096));
        }
        Assert.That(cut, Is.GreaterThanOrEqualTo(1), "the STOP line of 9,000 bytes (3,000 U+FFFD) says it was cut");
    }

    [Test]
    public void A_text_line_longer_than_the_line_buffer_is_cut_between_characters()
    {
        var bytes = StderrAfterLongStops("text");
        // Log lines end in CRLF as OTP's; the start-up line of fastepmd's own is LF only.
        var lines = Split(bytes, "\n"u8.ToArray());
        var log = lines.Where(l => l.AsSpan().StartsWith("epmd: "u8)).ToList();
        Assert.That(log.Where(l => Encoding.UTF8.GetString(l).Contains("unknown name")).ToList(), Has.Count.EqualTo(2));
        foreach (var line in log)
        {
            Assert.That(line[^1], Is.EqualTo((byte)'\r'), "CRLF");
            Assert.That(Utf8.IsValid(line), Is.True, "valid UTF-8: " + Encoding.Latin1.GetString(line));
            Assert.That(line.Length, Is.LessThanOrEqualTo(4096));
        }
    }

    private static List<byte[]> Split(byte[] bytes, byte[] terminator)
    {
        var lines = new List<byte[]>();
        int start = 0;
        for (int i = 0; i + terminator.Length <= bytes.Length; i++)
        {
            if (!bytes.AsSpan(i).StartsWith(terminator)) continue;
            lines.Add(bytes[start..i]);
            start = i + terminator.Length;
            i = start - 1;
        }
        Assert.That(start, Is.EqualTo(bytes.Length), "stderr ends with a whole line");
        return lines;
    }
}
