// -log_format json: each event one JSON object on one line, with the fields collectors index.
using System.Text.Json;
using FastEpmd.Diagnostics;

namespace FastEpmd.Tests.Unit.Diagnostics;

public class JsonLogTests
{
    [Test]
    public void EveryLine_ParsesAsOneJsonObject_WithTimeLevelEventAndTheFieldsGiven()
    {
        var lines = new List<string>();
        var log = new Log(2, lines.Add) { Json = true };
        log.Write(0, "node name already occupied ", "an\"ch\\or\u00e9"u8);
        log.Write(1, "closing because timed out on receive, fd 7");
        log.Write(1, "metrics client closed", fd: 9, errno: 104);
        log.Write(0, "bad name bytes ", new byte[] { 0xff, (byte)'a', 0x01 });
        log.Write(3, "above the level");

        Assert.That(lines, Has.Count.EqualTo(4));
        foreach (var line in lines)
        {
            Assert.That(line, Does.EndWith("}\n"));
            Assert.That(line.TrimEnd('\n'), Does.Not.Contain("\n"));
        }
        var docs = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var d in docs)
        {
            Assert.That(DateTime.Parse(d.GetProperty("time").GetString()!).Kind, Is.Not.EqualTo(DateTimeKind.Unspecified));
            Assert.That(d.GetProperty("level").GetString(), Is.AnyOf("error", "info", "debug"));
        }
        Assert.That(docs[0].GetProperty("event").GetString(), Is.EqualTo("node name already occupied"));
        Assert.That(docs[0].GetProperty("name").GetString(), Is.EqualTo("an\"ch\\or\u00e9"));
        Assert.That(docs[0].GetProperty("level").GetString(), Is.EqualTo("error"));
        Assert.That(docs[1].GetProperty("level").GetString(), Is.EqualTo("info"));
        Assert.That(docs[1].TryGetProperty("fd", out _), Is.False);
        Assert.That(docs[2].GetProperty("fd").GetInt32(), Is.EqualTo(9));
        Assert.That(docs[2].GetProperty("errno").GetInt32(), Is.EqualTo(104));
        Assert.That(docs[3].GetProperty("name").GetString(), Is.EqualTo("\u00ffa\u0001"));
    }

    [Test]
    public void An_event_on_a_connected_socket_carries_its_peer_and_a_utc_time()
    {
        var lines = new List<string>();
        var log = new Log(1, lines.Add) { Json = true };
        var (client, serverFd) = SocketPairs.Tcp();
        var (unixA, unixB) = SocketPairs.Unix();
        try
        {
            var before = DateTime.UtcNow;
            log.Write(1, "closing because timed out on receive", fd: serverFd);
            log.Write(1, "a unix socket has no address", fd: unixA);
            var after = DateTime.UtcNow;

            var tcp = JsonDocument.Parse(lines[0]).RootElement;
            Assert.That(tcp.GetProperty("fd").GetInt32(), Is.EqualTo(serverFd));
            Assert.That(tcp.GetProperty("peer").GetString(), Is.EqualTo(client.LocalEndPoint!.ToString()));
            string time = tcp.GetProperty("time").GetString()!;
            Assert.That(time, Does.Match(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$"));
            var parsed = DateTime.Parse(time, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal);
            Assert.That(parsed, Is.InRange(before.AddSeconds(-1), after.AddSeconds(1)));

            var unix = JsonDocument.Parse(lines[1]).RootElement;
            Assert.That(unix.GetProperty("fd").GetInt32(), Is.EqualTo(unixA));
            Assert.That(unix.TryGetProperty("peer", out _), Is.False);
        }
        finally
        {
            client.Dispose();
            Tmds.Linux.LibC.close(serverFd);
            Tmds.Linux.LibC.close(unixA);
            Tmds.Linux.LibC.close(unixB);
        }
    }

    [Test]
    public void JsonLines_OnStderr_AllocateNothing()
    {
        var log = new Log(0) { Json = true };
        byte[] name = "anchor"u8.ToArray();
        var (output, allocated) = StderrCapture.Run(
            () => log.Write(0, "node name already occupied ", name),
            () => log.Write(0, "node name already occupied ", name), 50);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(51));
        foreach (var line in lines) Assert.That(JsonDocument.Parse(line).RootElement.GetProperty("name").GetString(), Is.EqualTo("anchor"));
        Assert.That(allocated, Is.Zero);
    }
}
