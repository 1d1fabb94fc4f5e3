// Issue 14's snapshot-pin attack: NAMES readers that never read, each after a registry change, used
// to pin one full-size reply per registry version until the daemon ran out of memory and lost every
// registration. Now reply memory has a budget (-reply_memory_mb, default 64 MiB): the oldest
// readers are closed first, and the memory comes back when they go.
using System.Diagnostics;
using System.Net.Sockets;

namespace FastEpmd.SystemTests.Robustness;

[NonParallelizable]
public class SnapshotPinAttackTests : RobustnessFixture
{
    private const int Nodes = 5_000;
    private const int Readers = 100;
    private const long CgroupLimit = 256L << 20;
    private const long BudgetBytes = 64L << 20;

    [Test]
    public void Readers_that_never_read_cannot_grow_the_daemon_past_its_reply_budget()
    {
        var cgroup = Track(MemoryCgroup.Create("fastepmd-pin-" + Environment.ProcessId, CgroupLimit));
        var daemon = StartFastEpmd();
        cgroup.Add(daemon.Pid);
        Log($"daemon {daemon.Pid} in {cgroup.Path} (limit {ProcessStats.MB(CgroupLimit)})");

        // 5,000 nodes with 1,005-byte names (255 code points): NAMES is about 5 MB.
        var registrations = Track(new List<Socket>());
        string Long(int i) => i.ToString("D5") + string.Concat(Enumerable.Repeat("\U0001F608", 250));
        for (int i = 0; i < Nodes; i++) registrations.Add(RawEpmdClient.RegisterOk(daemon.Port, Long(i), 1 + i % 60000, out _));
        var names = RawEpmdClient.Query(daemon.Port, Requests.Names, 20_000);
        Assert.That(names.Data.Length, Is.GreaterThan(5_000_000), "NAMES of 5,000 long names");
        Thread.Sleep(500);
        long before = ProcessStats.RssBytes(daemon.Pid);

        var readers = Track(new List<Socket>());
        long peakSampled = before;
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < Readers; i++)
        {
            try
            {
                registrations.Add(RawEpmdClient.RegisterOk(daemon.Port, "churn" + i, 2000 + i, out _));   // a new registry version
            }
            catch (Exception e) when (e is InvalidOperationException or SocketException)
            {
                Assert.Fail($"the daemon stopped serving after {i} readers (exited: {daemon.HasExited}): {e.Message}");
            }
            var reader = RawEpmdClient.OpenSocket(daemon.Port, receiveBuffer: 2048);
            reader.Send(Requests.Names);
            readers.Add(reader);
            Thread.Sleep(5);   // the daemon builds its snapshot and fills the socket
            Assert.That(daemon.HasExited, Is.False, $"the daemon died after {i + 1} readers");
            peakSampled = Math.Max(peakSampled, ProcessStats.RssBytes(daemon.Pid));
        }
        Thread.Sleep(200);
        Assert.That(daemon.HasExited, Is.False, "the daemon died under the attack");
        long peak = Math.Max(peakSampled, PeakRssBytes(daemon.Pid));
        Log($"{Readers} pinning readers in {sw.ElapsedMilliseconds} ms: RSS {ProcessStats.MB(before)} before, peak {ProcessStats.MB(peak)} " +
            $"(budget {ProcessStats.MB(BudgetBytes)} + 32 MiB allowed)");

        // Every registration survived, and NAMES still lists them all.
        Assert.That(registrations.Count(s => RawEpmdClient.ClosedByPeer(s)), Is.Zero, "a registration was lost");
        var lines = Replies.NamesLines(RawEpmdClient.Query(daemon.Port, Requests.Names, 20_000).Data, daemon.Port);
        Assert.That(lines.Length, Is.EqualTo(Nodes + Readers));
        Assert.That(peak, Is.LessThanOrEqualTo(BudgetBytes + (32L << 20)), "peak RSS over budget + 32 MiB");

        RawEpmdClient.DisposeAll(readers);
        readers.Clear();
        var back = Stopwatch.StartNew();
        long after = ProcessStats.RssBytes(daemon.Pid);
        while (after > before + (4L << 20) && back.Elapsed < TimeSpan.FromSeconds(2))
        {
            Thread.Sleep(50);
            after = ProcessStats.RssBytes(daemon.Pid);
        }
        Log($"readers closed: RSS {ProcessStats.MB(after)} after {back.ElapsedMilliseconds} ms (before them: {ProcessStats.MB(before)})");
        Assert.That(after, Is.LessThanOrEqualTo(before + (4L << 20)), "RSS not back within 4 MiB of its level before the readers, 2 s after they closed");
        Assert.That(daemon.HasExited, Is.False);
    }

    private static long PeakRssBytes(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        return 0;
    }
}
