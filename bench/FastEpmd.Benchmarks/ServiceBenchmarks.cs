// The whole request path below the sockets: EpmdService.Handle for PORT_PLEASE2, NAMES and ALIVE2
// (reply bytes into the caller's buffer, or a shared NAMES snapshot). Must allocate nothing.
using System.Text;
using BenchmarkDotNet.Attributes;
using FastEpmd.Diagnostics;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.Wire;

namespace FastEpmd.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class ServiceBenchmarks
{
    private const int Ops = BenchConfig.Ops;
    private readonly byte[] _reply = new byte[Limits.MaxSmallReply];
    private EpmdService _service = null!;
    private NodeRegistry _registry = null!;

    [GlobalSetup]
    public void Setup()
    {
        _registry = new NodeRegistry(1024);
        _service = new EpmdService(new EpmdOptions(), _registry, Log.Silent, static () => 1_700_000_000);
        for (int i = 0; i < 100; i++)
        {
            _registry.Register(Encoding.ASCII.GetBytes($"node{i}"), ReadOnlySpan<byte>.Empty, (ushort)(20000 + i), 77, 0, 6, 5,
                (ulong)i + 1, i, 1_700_000_000, out _);
        }
        _registry.Register(Frames.NodeName, ReadOnlySpan<byte>.Empty, Frames.NodePort, 77, 0, 6, 5, 999, 9, 1_700_000_000, out _);
        for (int i = 0; i < 3000; i++) Alive2();   // steady state of the remembered list
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int PortPlease2_Hit()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += _service.Handle(Frames.Payload(Frames.PortPlease2), true, 1, 3, _reply).ReplyLength;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int PortPlease2_Miss()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += _service.Handle(Frames.Payload(Frames.PortPlease2Miss), true, 1, 3, _reply).ReplyLength;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Names_101Nodes()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++)
        {
            var d = _service.Handle(Frames.Payload(Frames.Names), true, 1, 3, _reply);
            _service.Snapshots.Pin(d.Snapshot);
            sum += _service.Snapshots.Bytes(d.Snapshot).Length;
            _service.Snapshots.Unpin(d.Snapshot);
        }
        return sum;
    }

    /// <summary>ALIVE2 for a name, then its unregistration (the close of the node's connection).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public int Alive2_ThenUnregister()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += Alive2();
        return sum;
    }

    private int Alive2()
    {
        var d = _service.Handle(Frames.Payload(AliveFrame), true, 1UL << 40, 5, _reply);
        if (d.After == AfterReply.KeepRegistration) _registry.Unregister(d.Record);
        return d.ReplyLength;
    }

    /// <summary>ALIVE2 for "alive" (not "bench", which stays registered for the lookups).</summary>
    private static readonly byte[] AliveFrame =
    {
        0x00, 0x12, (byte)'x', 0x12, 0x67, 0x4D, 0x00, 0x00, 0x06, 0x00, 0x05, 0x00, 0x05,
        (byte)'a', (byte)'l', (byte)'i', (byte)'v', (byte)'e', 0x00, 0x00,
    };

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Garbage_Silent()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += (int)_service.Handle(Frames.Payload(Frames.Garbage), true, 1, 3, _reply).After;
        return sum;
    }
}
