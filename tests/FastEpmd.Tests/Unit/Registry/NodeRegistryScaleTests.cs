// Scale: a million names registered, found, unregistered and brought back, in bounded time.
using System.Buffers.Text;
using System.Diagnostics;
using FastEpmd.Registry;

namespace FastEpmd.Tests.Unit.Registry;

public class NodeRegistryScaleTests
{
    private const int Count = 1_000_000;

    /// <summary>"node&lt;i&gt;@scale" into a stack buffer: no strings in the timed loops.</summary>
    private static int NameOf(int i, Span<byte> destination)
    {
        "node"u8.CopyTo(destination);
        Utf8Formatter.TryFormat(i, destination.Slice(4), out int digits);
        "@scale"u8.CopyTo(destination.Slice(4 + digits));
        return 4 + digits + 6;
    }

    [Test]
    public void A_million_registrations_are_all_found_again_in_bounded_time()
    {
        var registry = new NodeRegistry();
        Span<byte> name = stackalloc byte[32];
        var watch = Stopwatch.StartNew();
        for (int i = 0; i < Count; i++)
        {
            int n = NameOf(i, name);
            var status = registry.Register(name[..n], ReadOnlySpan<byte>.Empty, (ushort)i, 77, 0, 6, 5, (ulong)i + 1, i, 1_700_000_000, out _);
            if (status != RegisterStatus.Registered) Assert.Fail($"registration {i} refused");
        }
        var registered = watch.Elapsed;
        Assert.That(registry.RegisteredCount, Is.EqualTo(Count));

        watch.Restart();
        for (int i = 0; i < Count; i++)
        {
            int n = NameOf(i, name);
            int record = registry.FindRegistered(name[..n]);
            if (record < 0 || registry[record].Owner != (ulong)i + 1 || !registry.Name(record).SequenceEqual(name[..n]))
                Assert.Fail($"lookup {i} failed: record {record}");
        }
        var looked = watch.Elapsed;

        // Names that are not there.
        for (int i = Count; i < Count + 10_000; i++)
        {
            int n = NameOf(i, name);
            if (registry.FindRegistered(name[..n]) >= 0) Assert.Fail($"found {i}, which was never registered");
        }

        TestContext.Out.WriteLine($"1M registrations {registered.TotalMilliseconds:F0} ms, 1M lookups {looked.TotalMilliseconds:F0} ms");
        // O(1) each: under a second on the 2-core CI machine, a few seconds when it is busy.
        // 30 s only catches a path gone quadratic, which would take hours here.
        Assert.That(registered + looked, Is.LessThan(TimeSpan.FromSeconds(30)));
    }

    [Test]
    public void A_million_unregistrations_and_re_registrations_keep_every_name_findable()
    {
        var registry = new NodeRegistry(rememberLimit: 1000);
        Span<byte> name = stackalloc byte[32];
        const int N = 200_000;
        var records = new int[N];
        for (int i = 0; i < N; i++)
        {
            int n = NameOf(i, name);
            registry.Register(name[..n], default, 1, 77, 0, 6, 5, 1, 1, 1_700_000_000, out records[i]);
        }
        // Unregister every other name, then bring half of those back.
        for (int i = 0; i < N; i += 2) registry.Unregister(records[i]);
        for (int i = 0; i < N; i += 4)
        {
            int n = NameOf(i, name);
            Assert.That(registry.Register(name[..n], default, 2, 77, 0, 6, 5, 2, 2, 1_700_000_000, out int again), Is.EqualTo(RegisterStatus.Registered));
            if (again != records[i]) Assert.Fail($"name {i} came back in record {again}, not its remembered {records[i]}");
        }
        for (int i = 0; i < N; i++)
        {
            int n = NameOf(i, name);
            bool expected = i % 2 == 1 || i % 4 == 0;
            if ((registry.FindRegistered(name[..n]) >= 0) != expected) Assert.Fail($"name {i}: expected registered={expected}");
        }
        Assert.That(registry.RegisteredCount, Is.EqualTo(N / 2 + N / 4));
        Assert.That(registry.RememberedCount, Is.EqualTo(N / 4));
    }
}
