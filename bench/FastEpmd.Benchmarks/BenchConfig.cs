// One short in-process job for every class: `./build.sh bench` must finish in minutes, and an
// in-process run skips BenchmarkDotNet's per-run project build. Each benchmark method runs an
// inner loop of OperationsPerInvoke operations (as Kestrel's HttpParserBenchmark does).
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace FastEpmd.Benchmarks;

public sealed class BenchConfig : ManualConfig
{
    public const int Ops = 1024;

    public BenchConfig()
    {
        AddJob(Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(7)
            .WithIterationTime(TimeInterval.FromMilliseconds(80))
            .WithId("short-inprocess"));
        AddDiagnoser(MemoryDiagnoser.Default);
        WithOptions(ConfigOptions.DisableLogFile);
    }
}
