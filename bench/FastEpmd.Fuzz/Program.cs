// Fuzz driver for the request path. Verbs:
//   afl                    under afl-fuzz, with FastEpmd.Core.dll instrumented by `sharpfuzz`
//   libfuzzer              under libfuzzer-dotnet (same instrumentation)
//   random SECONDS [SEED]  no coverage: FuzzCorpus' seeded mutations for that long
//   corpus DIR             writes the seed corpus (FuzzCorpus.Seeds) for afl-fuzz -i
//   replay FILE...         runs saved inputs (a crash from findings/) once each
// Every mode runs DecoderHarness: a broken rule throws, and a throw is a crash.
using System.Diagnostics;
using System.Globalization;
using FastEpmd.Fuzzing;
using FastEpmd.Testing;
using SharpFuzz;

namespace FastEpmd.Fuzz;

internal static class Program
{
    private static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "afl":
                Fuzzer.OutOfProcess.Run(stream =>
                {
                    using var buffer = new MemoryStream();
                    stream.CopyTo(buffer);
                    DecoderHarness.RunOne(buffer.ToArray());
                });
                return 0;
            case "libfuzzer":
                Fuzzer.LibFuzzer.Run(span => DecoderHarness.RunOne(span));
                return 0;
            case "random" when args.Length >= 2:
                return Random(double.Parse(args[1], CultureInfo.InvariantCulture),
                    args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : Environment.TickCount,
                    args.Length > 3 ? args[3] : "out/fuzz/crashes");
            case "corpus" when args.Length == 2:
                Directory.CreateDirectory(args[1]);
                int n = 0;
                foreach (var seed in FuzzCorpus.Seeds()) File.WriteAllBytes(Path.Combine(args[1], $"seed-{n++:D3}"), seed);
                Console.WriteLine($"{n} seed inputs in {args[1]}");
                return 0;
            case "replay" when args.Length >= 2:
                foreach (var file in args.Skip(1))
                {
                    try
                    {
                        DecoderHarness.RunOne(File.ReadAllBytes(file));
                        Console.WriteLine($"{file}: ok");
                    }
                    catch (Exception e)
                    {
                        Console.WriteLine($"{file}: {e}");
                        return 1;
                    }
                }
                return 0;
            default:
                Console.Error.WriteLine("usage: FastEpmd.Fuzz afl | libfuzzer | random SECONDS [SEED [CRASHDIR]] | corpus DIR | replay FILE...");
                return 2;
        }
    }

    /// <summary>The fallback without coverage feedback: seeded mutations, four daemon configurations in turn.</summary>
    private static int Random(double seconds, int seed, string crashDir)
    {
        Console.WriteLine($"random/mutational fuzzing for {seconds} s, seed {seed} (no coverage feedback)");
        var frames = new FuzzCorpus(seed);
        var sw = Stopwatch.StartNew();
        long total = 0;
        var next = TimeSpan.FromSeconds(10);
        for (int round = 0; sw.Elapsed.TotalSeconds < seconds; round++)
        {
            var harness = new DecoderHarness(seed + round, relaxed: round % 2 == 1, debug: round % 4 >= 2);
            for (int i = 0; i < 100_000 && sw.Elapsed.TotalSeconds < seconds; i++, total++)
            {
                byte[] frame = frames.Next();
                int maxChunk = frames.Random.Next(10) < 7 ? 0 : 1 + frames.Random.Next(16);
                try
                {
                    harness.Connection(frame, maxChunk);
                }
                catch (Exception e)
                {
                    Directory.CreateDirectory(crashDir);
                    string path = Path.Combine(crashDir, $"crash-seed{seed}-round{round}-frame{i}.bin");
                    File.WriteAllBytes(path, frame);
                    Console.WriteLine($"CRASH after {total} frames (seed {seed}, round {round}, frame {i}, maxChunk {maxChunk}): {Hex.Format(frame)}\n{e}\nsaved {path}");
                    return 1;
                }
            }
            if (sw.Elapsed >= next)
            {
                Console.WriteLine($"  {sw.Elapsed.TotalSeconds:F0} s: {total} frames, {total / sw.Elapsed.TotalSeconds:F0}/s");
                next += TimeSpan.FromSeconds(10);
            }
        }
        Console.WriteLine($"random fuzzing: {total} frames in {sw.Elapsed.TotalSeconds:F0} s, no crash");
        return 0;
    }
}
