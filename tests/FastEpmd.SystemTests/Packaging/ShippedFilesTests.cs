// What the shipped text files promise and nothing else checks: the man page names every flag the
// parser takes and every README difference, and the Dockerfile is pinned, numeric and lean.
using System.Text.RegularExpressions;

namespace FastEpmd.SystemTests.Packaging;

[TestFixture]
[Parallelizable(ParallelScope.All)]
public class ShippedFilesTests
{
    private static string Read(params string[] path) => File.ReadAllText(Path.Combine(new[] { Binaries.RepoRoot }.Concat(path).ToArray()));

    private static string ManPage => Read("dist", "man", "fastepmd.8");

    [Test]
    public void TheManPageNamesEveryFlagTheParserTakes()
    {
        var flags = Regex.Matches(Read("src", "FastEpmd.Core", "CommandLine", "OptionParser.cs"), "case \"(-[a-z_]+)\":")
            .Select(m => m.Groups[1].Value).Distinct().ToArray();
        Assert.That(flags, Has.Length.GreaterThan(15));
        // roff writes a minus as \-.
        var missing = flags.Where(f => !ManPage.Contains(@"\" + f, StringComparison.Ordinal)).ToArray();
        Assert.That(missing, Is.Empty, "flags missing from dist/man/fastepmd.8");
    }

    [Test]
    public void TheManPageListsEveryDifferenceFromOtp()
    {
        var readme = Read("README.md");
        var section = readme[readme.IndexOf("## Differences from OTP's epmd", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 5, StringComparison.Ordinal)];
        int inReadme = Regex.Matches(section, @"^\d+\. \*\*", RegexOptions.Multiline).Count;
        var man = ManPage[ManPage.IndexOf(".SH DIFFERENCES FROM OTP'S EPMD", StringComparison.Ordinal)..];
        man = man[..man.IndexOf(".SH FILES", StringComparison.Ordinal)];
        int inMan = Regex.Matches(man, @"^\.IP \d+\. 4$", RegexOptions.Multiline).Count;
        Assert.That(inReadme, Is.GreaterThan(10));
        Assert.That(inMan, Is.EqualTo(inReadme), "README \"Differences from OTP's epmd\" and fastepmd(8) list the same differences");
    }

    [Test]
    public void TheDockerfileIsPinnedNumericAndHasAHealthcheck()
    {
        foreach (var file in new[] { "Dockerfile", "Containerfile" })
        {
            var text = Read("dist", "container", file);
            var bases = Regex.Matches(text, @"^FROM (\S+)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToArray();
            Assert.That(bases, Is.Not.Empty, file);
            Assert.That(bases.Where(b => b != "scratch"), Has.All.Match(@"^[^@\s]+:[^@\s]+@sha256:[0-9a-f]{64}$"), file + ": pinned by tag and digest");
            Assert.That(text, Does.Match(@"(?m)^USER 65532:65532$"), file);
            Assert.That(text, Does.Contain("HEALTHCHECK").And.Contain("\"/usr/local/bin/fastepmd\", \"-names\""), file);
        }
        var ignored = Read(".dockerignore").Split('\n').Select(l => l.Trim()).ToArray();
        Assert.That(ignored, Does.Contain("out").And.Contain("**/bin").And.Contain("**/obj").And.Contain(".git"));
    }
}
