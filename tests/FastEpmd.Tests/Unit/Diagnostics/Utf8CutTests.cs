// Where a log line may cut its text: never inside a UTF-8 character.
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FastEpmd.Diagnostics;

namespace FastEpmd.Tests.Unit.Diagnostics;

public class Utf8CutTests
{
    [TestCase("abc", 2, 2)]
    [TestCase("a\u20ACb", 1, 1)]     // before the euro sign
    [TestCase("a\u20ACb", 2, 1)]     // inside it: back to its lead byte
    [TestCase("a\u20ACb", 3, 1)]
    [TestCase("a\u20ACb", 4, 4)]     // after it
    [TestCase("\U0001F600x", 3, 0)]
    [TestCase("\U0001F600x", 4, 4)]
    [TestCase("abc", 10, 3)]
    public void Cuts_only_between_characters(string text, int max, int expected) =>
        Assert.That(Utf8Cut.Boundary(Encoding.UTF8.GetBytes(text), max), Is.EqualTo(expected));

    [Test]
    public void A_json_event_longer_than_the_line_is_cut_at_a_character_and_says_so()
    {
        var line = new byte[4096];
        foreach (string message in new[] { new string('\uFFFD', 3000), string.Concat(Enumerable.Repeat("\U0001F600", 1500)), new string('\u00e9', 5000) })
        {
            int n = JsonLine.Compose(line, 1, message, new byte[3000], -1, 0);
            var bytes = line.AsSpan(0, n);
            Assert.That(Utf8.IsValid(bytes), Is.True);
            Assert.That(bytes.IndexOf((byte)'\n'), Is.EqualTo(n - 1), "one line");
            using var doc = JsonDocument.Parse(bytes.ToArray());
            Assert.That(doc.RootElement.GetProperty("cut").GetBoolean(), Is.True);
        }
    }
}
