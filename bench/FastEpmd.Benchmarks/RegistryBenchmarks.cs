// NodeRegistry at 10 to 1,000,000 names: lookup (hit, miss) and register + unregister must cost
// the same at every size (hash index and intrusive lists, no scan).
using System.Text;
using BenchmarkDotNet.Attributes;
using FastEpmd.Registry;

namespace FastEpmd.Benchmarks;

[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class RegistryBenchmarks
{
    private const int Ops = BenchConfig.Ops;
    private const int ChurnNames = 4096;
    private NodeRegistry _registry = null!;
    private byte[][] _registered = null!;
    private byte[][] _missing = null!;
    private byte[][] _churn = null!;
    private int _next;

    [Params(10, 1_000, 50_000, 1_000_000)]
    public int Names { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _registry = new NodeRegistry(1024);
        _registered = new byte[Names][];
        for (int i = 0; i < Names; i++)
        {
            _registered[i] = Encoding.ASCII.GetBytes($"node{i}@host{i % 97}");
            _registry.Register(_registered[i], ReadOnlySpan<byte>.Empty, (ushort)(1024 + i % 60000), 77, 0, 6, 5,
                (ulong)i + 1, i, 1_700_000_000, out _);
        }
        _missing = Enumerable.Range(0, Ops).Select(i => Encoding.ASCII.GetBytes($"absent{i}@host")).ToArray();
        _churn = Enumerable.Range(0, ChurnNames).Select(i => Encoding.ASCII.GetBytes($"churn{i}@host")).ToArray();
        // Reach the steady state: the remembered list is full, so churn takes over old records.
        for (int i = 0; i < 3 * ChurnNames; i++) RegisterUnregister(i);
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Lookup_Hit()
    {
        int sum = 0;
        var names = _registered;
        for (int i = 0; i < Ops; i++) sum += _registry.FindRegistered(names[(int)((uint)(i * 7919) % (uint)names.Length)]);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Lookup_Miss()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += _registry.FindRegistered(_missing[i]);
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Ops)]
    public int Register_Unregister()
    {
        int sum = 0;
        for (int i = 0; i < Ops; i++) sum += RegisterUnregister(_next++);
        return sum;
    }

    private int RegisterUnregister(int i)
    {
        _registry.Register(_churn[i % ChurnNames], ReadOnlySpan<byte>.Empty, 4711, 77, 0, 6, 5, 1UL << 40, 3, 1_700_000_000, out int record);
        _registry.Unregister(record);
        return record;
    }
}
