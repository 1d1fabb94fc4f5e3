// Differential tests: each sequence runs against a Debian release's epmd (Debian 12's OTP 25 on
// this host, Debian 13's OTP 27 from its root) and against FastEpmd (FASTEPMD_BIN), each with its
// own daemon on its own free port, both at once. The reference transcript must match the
// expectations written in the sequence (this checks the harness and the spec against the binary),
// and FastEpmd's transcript must equal the reference's line for line.
using System.Text;
using FastEpmd.SystemTests.Reference;

namespace FastEpmd.SystemTests.Differential;

[TestFixture("Debian 12")]
[TestFixture("Debian 13")]
[Category("Differential")]
[Parallelizable(ParallelScope.All)]
public class DifferentialTests
{
    private static readonly TimeSpan s_caseLimit = TimeSpan.FromSeconds(40);

    private readonly DebianRelease _release;

    public DifferentialTests(string release) => _release = DebianRelease.Named(release);

    public static IEnumerable<TestCaseData> Sequences() =>
        DiffSequences.Names.Select(name => new TestCaseData(name).SetName(name));

    [TestCaseSource(nameof(Sequences))]
    public void Sequence(string name)
    {
        var sequence = DiffSequences.Get(name);
        if (_release.Missing.Length > 0) Assert.Fail(_release.Missing);
        string reference = _release.Epmd;
        string fastBinary = Binaries.FastEpmd;
        // Dedicated threads: the runs block for seconds, and 16 parallel fixtures on 2 cores would
        // starve the thread pool, stalling a side long enough to trip a packet timeout.
        var otpRun = Task.Factory.StartNew(() => DiffRunner.Run(sequence, reference), TaskCreationOptions.LongRunning);
        var fastRun = Task.Factory.StartNew(() => DiffRunner.Run(sequence, fastBinary), TaskCreationOptions.LongRunning);
        if (!Task.WaitAll(new Task[] { otpRun, fastRun }, s_caseLimit))
            Assert.Fail($"{name}: a run did not finish within {s_caseLimit.TotalSeconds} s");
        var otp = otpRun.Result;
        var fast = fastRun.Result;

        var unexpected = otp.Lines
            .Select((line, i) => (line, i))
            .Where(x => x.line.Step.ExpectFor(_release) is { } expect && x.line.Outcome != expect)
            .Select(x => $"  step {x.i:00} {x.line.Step.Describe}\n    expected {x.line.Step.ExpectFor(_release)}\n    {_release} gave {x.line.Outcome}")
            .ToList();
        Assert.That(unexpected, Is.Empty,
            $"{_release}'s epmd did not do what the sequence expects (a harness or spec error, not a FastEpmd one):\n" +
            string.Join('\n', unexpected) + "\n" + otp.Format(_release.Name));

        Assert.That(Describe(fast), Is.EqualTo(Describe(otp)),
            FirstDifference(otp, fast, _release.Name) + "\n" + otp.Format(_release.Name) + fast.Format("FastEpmd"));
        TestContext.Out.WriteLine(otp.Format(_release.Name));
        TestContext.Out.WriteLine(fast.Format("FastEpmd"));
    }

    [Test]
    public void Catalogue_holds_as_many_sequences_as_the_README_says_and_every_read_is_checked()
    {
        var names = DiffSequences.Names.ToList();
        // The README states the count ("N request sequences"); every such claim must be the catalogue's size.
        var readme = File.ReadAllText(Path.Combine(Binaries.RepoRoot, "README.md"));
        var claims = System.Text.RegularExpressions.Regex.Matches(readme, @"\b([0-9]+) request sequences")
            .Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.That(claims, Is.Not.Empty, "README.md states how many request sequences the differential suite compares");
        Assert.That(claims, Has.All.EqualTo(names.Count), $"README.md's count of request sequences; the catalogue holds {names.Count}");
        Assert.That(names, Has.Count.EqualTo(127), "the catalogue's size when this test was written; update it with the README");
        var unchecked_ = names.SelectMany(n => DiffSequences.Get(n).Steps
                .Where(s => s.Expect is null && (s.Describe.Contains(" read", StringComparison.Ordinal) || s.Describe.Contains("one-shot", StringComparison.Ordinal)))
                .Select(s => $"{n}: {s.Describe}"))
            .ToList();
        Assert.That(unchecked_, Is.Empty);
    }

    private static List<string> Describe(DiffTranscript t) => t.Lines.Select(l => l.ToString()).ToList();

    private static string FirstDifference(DiffTranscript otp, DiffTranscript fast, string reference)
    {
        var sb = new StringBuilder();
        int n = Math.Min(otp.Lines.Count, fast.Lines.Count);
        for (int i = 0; i < n; i++)
        {
            if (otp.Lines[i].Outcome == fast.Lines[i].Outcome) continue;
            sb.AppendLine($"first difference at step {i:00} {otp.Lines[i].Step.Describe}:");
            sb.AppendLine($"  {reference,-9} {otp.Lines[i].Outcome}");
            sb.AppendLine($"  FastEpmd  {fast.Lines[i].Outcome}");
            return sb.ToString();
        }
        return "transcripts differ in length";
    }
}
