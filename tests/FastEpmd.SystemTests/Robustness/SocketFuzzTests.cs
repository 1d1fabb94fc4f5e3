// Seeded fuzzing over real sockets: mutated and random frames, one connection each, sent whole,
// in pieces or followed by an RST, from a few concurrent clients. After every batch the daemon
// still serves, the registration made at the start is intact, nothing else is left registered,
// and no descriptor leaked. Where a frame is exact (2 + Length bytes), its reply is checked too.
using System.Collections.Concurrent;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

// Floods and exhaustion are machine-wide: these fixtures never share the machine with other tests.
[NonParallelizable]
public class SocketFuzzTests : RobustnessFixture
{
    private const int Seed = 11083;
    private const int Batches = 15;
    private const int FramesPerBatch = 1000;
    private const int Clients = 8;

    /// <summary>Relaxed: STOP works (and stops fuzzed registrations over real sockets); KILL frames are left out.</summary>
    [TestCase(false)]
    [TestCase(true)]
    public void MutatedFramesOverSocketsLeaveTheDaemonServing(bool relaxed)
    {
        var daemon = relaxed ? StartFastEpmd("-relaxed_command_check") : StartFastEpmd();
        var anchor = Track(RawEpmdClient.RegisterOk(daemon.Port, "fuzzanchor", 4444, out _));
        var expectedLookup = Replies.Port2Found("fuzzanchor", 4444);
        var expectedNames = Replies.NamesReply(daemon.Port, new[] { ("fuzzanchor", 4444) });
        int baselineFds = ProcessStats.OpenDescriptors(daemon.Pid);
        var frames = new FuzzCorpus(relaxed ? Seed + 1 : Seed);
        var problems = new ConcurrentQueue<string>();
        long sent = 0, replies = 0, resets = 0, checkedReplies = 0;

        for (int batch = 0; batch < Batches && problems.IsEmpty; batch++)
        {
            var work = Enumerable.Range(0, FramesPerBatch)
                .Select(i => (Index: batch * FramesPerBatch + i, Frame: NoKill(frames.Next(), relaxed), Mode: frames.Random.Next(10))).ToArray();
            int next = -1;
            var threads = Enumerable.Range(0, Clients).Select(_ => new Thread(() =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < work.Length && problems.Count < 10)
                {
                    var (index, frame, mode) = work[i];
                    try
                    {
                        var outcome = Deliver(daemon.Port, frame, mode);
                        Interlocked.Increment(ref sent);
                        if (outcome is null)
                        {
                            Interlocked.Increment(ref resets);
                            continue;
                        }
                        Interlocked.Increment(ref replies);
                        if (!outcome.Value.Closed)
                        {
                            problems.Enqueue($"frame {index} (mode {mode}): connection not closed within 3 s after EOF: {Hex.Format(frame)}");
                            continue;
                        }
                        var wrong = Oracle(frame, outcome.Value.Data, daemon.Port, relaxed);
                        if (wrong == "") Interlocked.Increment(ref checkedReplies);
                        else if (wrong != null) problems.Enqueue($"frame {index} (mode {mode}) {Hex.Format(frame)}: {wrong}");
                    }
                    catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset)
                    {
                        Interlocked.Increment(ref sent);
                    }
                    catch (Exception e)
                    {
                        problems.Enqueue($"frame {index} (mode {mode}) {Hex.Format(frame)}: {e.GetType().Name}: {e.Message}");
                    }
                }
            }) { IsBackground = true }).ToList();
            threads.ForEach(t => t.Start());
            foreach (var t in threads)
            {
                if (!t.Join(TimeSpan.FromSeconds(60))) problems.Enqueue("a fuzz client hung");
            }

            Assert.That(daemon.HasExited, Is.False, $"batch {batch}: the daemon exited; stderr: {daemon.Stderr}");
            Assert.That(RawEpmdClient.Query(daemon.Port, Requests.PortPlease("fuzzanchor")).Data, Is.EqualTo(expectedLookup), $"batch {batch}: PORT_PLEASE2 finds the anchor");
            // Every fuzz connection has been closed by both sides: only the anchor is left.
            WaitUntil(() => RawEpmdClient.Query(daemon.Port, Requests.Names).Data.AsSpan().SequenceEqual(expectedNames), TimeSpan.FromSeconds(3),
                $"batch {batch}: NAMES lists exactly the anchor");
            WaitUntil(() => ProcessStats.OpenDescriptors(daemon.Pid) == baselineFds, TimeSpan.FromSeconds(3), $"batch {batch}: descriptors back to {baselineFds}");
            Assert.That(RawEpmdClient.ClosedByPeer(anchor), Is.False, $"batch {batch}: the anchor's socket is open");
        }
        Log($"{(relaxed ? "relaxed" : "default")}: {sent} fuzzed frames over sockets in {Batches} batches ({Clients} clients): {replies} read to the close " +
            $"({checkedReplies} exact frames byte-checked), {resets} reset by the client; daemon fds {baselineFds} before and after");
        Assert.That(problems, Is.Empty);
        Assert.That(sent, Is.GreaterThanOrEqualTo(10_000));
    }

    /// <summary>A relaxed daemon obeys KILL from a local peer: such frames become NAMES.</summary>
    private static byte[] NoKill(byte[] frame, bool relaxed) =>
        relaxed && frame.Length >= 3 && frame[2] == (byte)'k' ? Requests.Names : frame;

    /// <summary>Sends one frame (mode 0-6 whole, 7-8 in pieces, 9 then RST) and reads to the close; null after an RST.</summary>
    private static ReadResult? Deliver(int port, byte[] frame, int mode)
    {
        using var s = RawEpmdClient.OpenSocket(port);
        if (mode is 7 or 8 && frame.Length > 1)
        {
            int cut = 1 + frame.Length / 3;
            s.Send(frame, 0, cut, SocketFlags.None);
            Thread.Sleep(1);
            s.Send(frame, cut, frame.Length - cut, SocketFlags.None);
        }
        else if (frame.Length > 0)
        {
            s.Send(frame);
        }
        if (mode == 9)
        {
            RawEpmdClient.Reset(s);
            return null;
        }
        s.Shutdown(SocketShutdown.Send);
        return RawEpmdClient.ReadToEnd(s, 3000);
    }

    /// <summary>
    /// What the spec allows for an exact frame (a node registered, local peer):
    /// "" when the reply fits, null when the frame is not exact, else what is wrong.
    /// </summary>
    private static string? Oracle(byte[] frame, byte[] reply, int daemonPort, bool relaxed)
    {
        if (frame.Length < 2) return reply.Length == 0 ? "" : "reply to a frame without a header";
        int length = frame[0] << 8 | frame[1];
        if (length == 0 || length > 3057 || frame.Length < 2 + length)
            return reply.Length == 0 ? "" : "reply to an invalid or partial frame";
        if (frame.Length > 2 + length) return null;   // trailing bytes: depends on how the reads fell
        byte tag = frame[2];
        string header = Hex.Format(new[] { (byte)(daemonPort >> 24), (byte)(daemonPort >> 16), (byte)(daemonPort >> 8), (byte)daemonPort });
        switch (tag)
        {
            case (byte)'n':
            case (byte)'d':
                return reply.Length >= 4 && Hex.Format(reply.AsSpan(0, 4)) == header ? "" : "NAMES/DUMP header " + Hex.Format(reply);
            case (byte)'z':
                return reply.Length == 0 || Hex.Format(reply) == "77 01" || (reply.Length >= 14 && reply[0] == 0x77 && reply[1] == 0) ? "" : "PORT2 reply " + Hex.Format(reply);
            case (byte)'x':
                if (reply.Length == 0) return "";
                int hi = length >= 7 ? frame[7] << 8 | frame[8] : -1;
                bool ok = hi >= 6 ? reply.Length == 6 && reply[0] == 0x76 : reply.Length == 4 && reply[0] == 0x79;
                return ok && reply[1] <= 1 ? "" : "ALIVE2 reply " + Hex.Format(reply);
            case (byte)'k':
                return Hex.Format(reply) == "4e 4f" ? "" : "KILL with a live node must be NO, got " + Hex.Format(reply);
            case (byte)'s' when relaxed:
                string text = System.Text.Encoding.ASCII.GetString(reply);
                return text is "STOPPED" or "NOEXISTSTOPPED" || (length == 1 && text == "") ? "" : "STOP reply " + Hex.Format(reply);
            default:
                return reply.Length == 0 ? "" : "reply to a silent request: " + Hex.Format(reply);
        }
    }
}
