// NAMES and DUMP text, byte for byte.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class NamesReplyTests
{
    private static byte[] Buffer() => new byte[NamesReply.HeaderLength + NamesReply.MaxLineLength];

    [TestCase(4369, "00 00 11 11")]
    [TestCase(80000, "00 01 38 80")]   // -port 80000 binds 14464 and reports 80000
    [TestCase(0, "00 00 00 00")]        // ERL_EPMD_PORT=abc
    public void Header_is_the_configured_port_as_int32(int port, string expected)
    {
        var b = Buffer();
        int n = NamesReply.WriteHeader(b, port);
        Assert.That(Hex.Format(b.AsSpan(0, n)), Is.EqualTo(expected));
    }

    [TestCase(0, 0, 0)]
    [TestCase(1, 9, 10)]
    [TestCase(7, 65535, -1)]
    [TestCase(255, 10, 99999)]
    [TestCase(Limits.MaxNameBytes, 0, int.MaxValue)]
    [TestCase(3, 1, int.MinValue)]
    public void Line_lengths_are_what_the_writers_write(int nameLength, int port, int fd)
    {
        var b = Buffer();
        var name = new byte[nameLength];
        Array.Fill(name, (byte)'n');
        Assert.Multiple(() =>
        {
            Assert.That(NamesReply.NameLineLength(nameLength, port), Is.EqualTo(NamesReply.WriteNameLine(b, name, port)));
            Assert.That(NamesReply.ActiveDumpLineLength(nameLength, port, fd), Is.EqualTo(NamesReply.WriteActiveDumpLine(b, name, port, fd)));
            Assert.That(NamesReply.UnusedDumpLineLength(nameLength, port, fd), Is.EqualTo(NamesReply.WriteUnusedDumpLine(b, name, port, fd)));
        });
    }

    [Test]
    public void Name_line()
    {
        var b = Buffer();
        int n = NamesReply.WriteNameLine(b, "fakenode"u8, 45678);
        Assert.That(b.AsSpan(0, n).ToArray(), Is.EqualTo("name fakenode at port 45678\n"u8.ToArray()));
    }

    [Test]
    public void Empty_name_line_has_two_spaces()
    {
        var b = Buffer();
        int n = NamesReply.WriteNameLine(b, ""u8, 1);
        Assert.That(Hex.Format(b.AsSpan(0, n)), Is.EqualTo(Hex.Format("name  at port 1\n"u8)));
    }

    [Test]
    public void Name_line_carries_raw_name_bytes()
    {
        var b = Buffer();
        int n = NamesReply.WriteNameLine(b, Hex.Parse("f0 9f 98 88"), 0);
        Assert.That(Hex.Format(b.AsSpan(0, n)),
            Is.EqualTo("6e 61 6d 65 20 f0 9f 98 88 20 61 74 20 70 6f 72 74 20 30 0a"));
    }

    [Test]
    public void Active_dump_line_has_five_spaces_and_ends_with_a_nul()
    {
        var b = Buffer();
        int n = NamesReply.WriteActiveDumpLine(b, "fakenode"u8, 45678, 5);
        Assert.That(Hex.Format(b.AsSpan(0, n)), Is.EqualTo(Hex.Format("active name     <fakenode> at port 45678, fd = 5\n\0"u8)));
    }

    [Test]
    public void Unused_dump_line_has_a_space_before_the_newline_and_ends_with_a_nul()
    {
        var b = Buffer();
        int n = NamesReply.WriteUnusedDumpLine(b, "fakenode"u8, 45678, 5);
        Assert.That(Hex.Format(b.AsSpan(0, n)), Is.EqualTo(Hex.Format("old/unused name <fakenode>, port = 45678, fd = 5 \n\0"u8)));
    }

    [Test]
    public void Longest_lines_fit_MaxLineLength()
    {
        var name = TestBytes.Repeat("61", Limits.MaxNameBytes);
        var b = new byte[NamesReply.MaxLineLength];
        Assert.Multiple(() =>
        {
            Assert.That(NamesReply.WriteNameLine(b, name, 65535), Is.EqualTo(5 + 1020 + 9 + 5 + 1));
            Assert.That(NamesReply.WriteActiveDumpLine(b, name, int.MaxValue, int.MaxValue), Is.EqualTo(17 + 1020 + 10 + 10 + 7 + 10 + 2));
            Assert.That(NamesReply.WriteUnusedDumpLine(b, name, int.MaxValue, int.MaxValue), Is.EqualTo(17 + 1020 + 10 + 10 + 7 + 10 + 3));
        });
    }
}
