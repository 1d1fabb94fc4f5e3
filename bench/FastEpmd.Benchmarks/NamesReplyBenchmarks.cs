// NAMES through EpmdService.Handle: the reply cached per registry version, and the rebuild after
// a registration changed the registry.
using System.Text;
using BenchmarkDotNet.Attributes;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class NamesReplyBenchmarks
{
    private const int Ops = 256;
    private readonly byte[] _reply = new byte[Limits.MaxSmallReply];
    private EpmdService _service = null!;
    private NodeRegistry _registry = null!;

    [Params(10, 1_000)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = new NodeRegistry(1024);
        _service = new EpmdService(new EpmdOptions(), _registry, Log.Silent, static () => 1_700_000_000);
        for (int i = 0; i < Nodes; i++)
        {
            _registry.Register(Encoding.ASCII.GetBytes($"node{i:D4}"), ReadOnlySpan<byte>.Empty, (ushort)(20000 + i), 77, 0, 6, 5,
                (ulong)i + 1, i, 1_700_000_000, out _);
        }
        Names();
        Names();
    }

    private int Names()
    {
        var d = _service.Handle(Frames.Payload(Frames.Names), true, 1, 3, _reply);
        // The reactor pins and unpins it around the write, as OutgoingReply does.
        _service.Snapshots.Pin(d.Snapshot);
        int length = _service.Snapshots.Bytes(d.Snapshot).Length;
        _service.Snapshots.Unpin(d.Snapshot);
        return length;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Names_Cached()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += Names();
        return sum;
    }

    /// <summary>A registration and its unregistration bump the version: every NAMES rebuilds.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Names_AfterRegistryChange()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            _registry.Register(Frames.NodeName, ReadOnlySpan<byte>.Empty, 4711, 77, 0, 6, 5, 1UL << 40, 3, 1_700_000_000, out int record);
            _registry.Unregister(record);
            sum += Names();
        }
        return sum;
    }
}
