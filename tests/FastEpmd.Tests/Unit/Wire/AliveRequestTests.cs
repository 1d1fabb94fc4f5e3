// ALIVE2_REQ parsing: every check OTP makes, in its order.
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

// Payloads start at the tag (the 2-byte length is Frame's business). Fixed fields:
//   78 | port | type | proto | hi | lo | nlen | name | elen | extra
public class AliveRequestTests
{
    private sealed record Parsed(AliveParseStatus Status, ushort Port, byte Type, byte Proto, ushort Hi, ushort Lo,
        string Name, string Extra);

    private static Parsed Parse(byte[] payload)
    {
        var status = AliveRequest.TryParse(payload, out var a);
        return new Parsed(status, a.Port, a.NodeType, a.Protocol, a.HighestVersion, a.LowestVersion,
            Hex.Format(a.Name), Hex.Format(a.Extra));
    }

    private static Parsed Parse(string hex) => Parse(Hex.Parse(hex));

    /// <summary>78 0457 4d 00 0006 0005, then nlen, name, elen, extra.</summary>
    private static byte[] WithName(byte[] name, string tail = "0000") =>
        Hex.Cat(Hex.Parse("78 0457 4d 00 0006 0005"), Hex.U16(name.Length), name, Hex.Parse(tail));

    [Test]
    public void What_a_real_OTP_25_node_sends_is_accepted()
    {
        var p = Parse("78 9d6d 4d 00 0006 0005 0005 616c706861 0000");
        Assert.That(p, Is.EqualTo(new Parsed(AliveParseStatus.Ok, 0x9d6d, 0x4d, 0, 6, 5, "61 6c 70 68 61", "")));
    }

    [Test]
    public void Hidden_node_with_odd_versions_is_echoed_unchecked()
    {
        var p = Parse("78 ffff 48 07 ffff 0009 0001 61 0003 000102");
        Assert.That(p, Is.EqualTo(new Parsed(AliveParseStatus.Ok, 0xffff, 0x48, 7, 0xffff, 9, "61", "00 01 02")));
    }

    // Check 2: Length <= 13 is silent, even when the fields would fit.
    [TestCase("78 0457 4d 00 0006 0005 0000 0000")]   // 13 bytes: Nlen=0, Elen=0
    [TestCase("78 0457 4d 00 0005 0005 0000")]        // 11: alive_req_too_small_1
    [TestCase("78 0457 4d 00 0005 0005")]             // 9: alive_req_too_small_2
    [TestCase("78")]
    public void Length_13_or_less_is_silent(string hex)
    {
        Assert.That(Parse(hex).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    // Check 3: Nlen + 13 > Length.
    [TestCase("78 0457 4d 00 0006 0005 0005 6162636465")]         // Elen missing
    [TestCase("78 0457 4d 00 0006 0005 0005 61626364 00")]        // Elen half there
    [TestCase("78 0457 4d 00 0006 0005 ffff 6162636465 0000")]
    public void Name_length_beyond_the_frame_is_silent(string hex)
    {
        Assert.That(Parse(hex).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    [Test]
    public void Name_length_exactly_filling_the_frame_is_accepted()
    {
        // Nlen + 13 == Length: the name runs up to the Elen field.
        Assert.That(Parse("78 0457 4d 00 0006 0005 0003 616263 0000").Status, Is.EqualTo(AliveParseStatus.Ok));
    }

    // Check 4: Elen + Nlen + 13 > Length (epmd_SUITE buffer_overrun_1: "gurka", Elen=N, no extra).
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(1020)]
    [TestCase(1021)]
    [TestCase(10000)]
    [TestCase(65535)]
    public void Extra_length_beyond_the_frame_is_silent(int elen)
    {
        var payload = WithName(Hex.Parse("67 75 72 6b 61"), Hex.Format(Hex.U16(elen)));
        Assert.That(Parse(payload).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    [Test]
    public void Extra_one_byte_short_is_silent_and_exact_is_accepted()
    {
        Assert.That(Parse("78 0457 4d 00 0006 0005 0001 61 0003 4142").Status, Is.EqualTo(AliveParseStatus.Silent));
        Assert.That(Parse("78 0457 4d 00 0006 0005 0001 61 0003 414243").Status, Is.EqualTo(AliveParseStatus.Ok));
    }

    // Check 5: a NUL anywhere in the name.
    [TestCase("66 6f 6f 00 62 61 72")]   // name_with_null_inside
    [TestCase("66 6f 6f 62 61 72 00")]   // name_null_terminated
    [TestCase("00 66 6f 6f")]
    [TestCase("00")]
    public void Nul_in_the_name_is_silent(string name)
    {
        Assert.That(Parse(WithName(Hex.Parse(name))).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    [Test]
    public void Nul_is_checked_before_the_name_size_limit()
    {
        var name = TestBytes.Repeat("61", 1021);
        name[500] = 0;
        Assert.That(Parse(WithName(name)).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    [Test]
    public void Frame_size_checks_come_before_the_name_limits()
    {
        // 1021-byte name (over the limit) with an Elen that overruns the frame: silent, not refused.
        Assert.That(Parse(WithName(TestBytes.Repeat("61", 1021), "0005 41")).Status, Is.EqualTo(AliveParseStatus.Silent));
    }

    [Test]
    public void Name_of_1021_bytes_is_refused()
    {
        Assert.That(Parse(WithName(TestBytes.Repeat("61", 1021))).Status, Is.EqualTo(AliveParseStatus.Refused));
    }

    [Test]
    public void Name_of_600_bytes_is_refused()
    {
        // epmd_SUITE alive_req_too_large: 600 x 'a' (600 code points > 255).
        Assert.That(Parse(WithName(TestBytes.Repeat("61", 600))).Status, Is.EqualTo(AliveParseStatus.Refused));
    }

    [Test]
    public void Name_of_255_ascii_is_accepted_and_256_refused()
    {
        Assert.That(Parse(WithName(TestBytes.Repeat("61", 255))).Status, Is.EqualTo(AliveParseStatus.Ok));
        Assert.That(Parse(WithName(TestBytes.Repeat("61", 256))).Status, Is.EqualTo(AliveParseStatus.Refused));
    }

    [Test]
    public void Name_of_255_four_byte_characters_is_accepted()
    {
        var name = TestBytes.Repeat("f0 9f 98 88", 255);   // 1020 bytes of U+1F608
        var p = Parse(WithName(name));
        Assert.That(p.Status, Is.EqualTo(AliveParseStatus.Ok));
        Assert.That(p.Name, Is.EqualTo(Hex.Format(name)));
    }

    [Test]
    public void Name_of_255_four_byte_characters_plus_one_byte_is_refused()
    {
        var name = Hex.Cat(TestBytes.Repeat("f0 9f 98 88", 255), Hex.Parse("61"));   // 1021 bytes
        Assert.That(Parse(WithName(name)).Status, Is.EqualTo(AliveParseStatus.Refused));
    }

    [Test]
    public void Long_unicode_name_of_201_four_byte_characters_is_accepted()
    {
        // epmd_SUITE long_unicode_name: 804 bytes.
        Assert.That(Parse(WithName(TestBytes.Repeat("f0 9f 98 88", 201))).Status, Is.EqualTo(AliveParseStatus.Ok));
    }

    [TestCase("c0 80", TestName = "Overlong NUL is refused")]
    [TestCase("c1 bf", TestName = "Overlong two-byte form is refused")]
    [TestCase("e0 80 af", TestName = "Overlong three-byte form is refused")]
    [TestCase("f0 80 80 af", TestName = "Overlong four-byte form is refused")]
    [TestCase("ed a0 80", TestName = "High surrogate is refused")]
    [TestCase("ed bf bf", TestName = "Low surrogate is refused")]
    [TestCase("f4 90 80 80", TestName = "U+110000 is refused")]
    [TestCase("f5 80 80 80", TestName = "F5 lead byte is refused")]
    [TestCase("ff", TestName = "FF byte is refused")]
    [TestCase("61 e2 82", TestName = "Truncated three-byte sequence is refused")]
    [TestCase("f0 9f 98", TestName = "Truncated four-byte sequence is refused")]
    [TestCase("80 61", TestName = "Lone continuation byte is refused")]
    [TestCase("e2 28 a1", TestName = "Bad continuation byte is refused")]
    public void Invalid_utf8_name(string name)
    {
        var p = Parse(WithName(Hex.Parse(name)));
        Assert.That(p.Status, Is.EqualTo(AliveParseStatus.Refused));
        Assert.That(p.Hi, Is.EqualTo(6), "a refusal still carries the version that picks the reply form");
    }

    [Test]
    public void Extra_of_1020_bytes_is_accepted_and_1021_refused()
    {
        // epmd_SUITE buffer_overrun_2: Elen=N plus N bytes of 0xFF.
        var ok = Parse(WithName(Hex.Parse("67 75 72 6b 61"), "03fc" + Hex.Format(TestBytes.Repeat("ff", 1020))));
        Assert.That(ok.Status, Is.EqualTo(AliveParseStatus.Ok));
        Assert.That(ok.Extra, Is.EqualTo(Hex.Format(TestBytes.Repeat("ff", 1020))));
        var refused = Parse(WithName(Hex.Parse("67 75 72 6b 61"), "03fd" + Hex.Format(TestBytes.Repeat("ff", 1021))));
        Assert.That(refused.Status, Is.EqualTo(AliveParseStatus.Refused));
    }

    [Test]
    public void Refusal_keeps_a_version_below_6()
    {
        var payload = Hex.Cat(Hex.Parse("78 0457 4d 00 0005 0005 0100"), TestBytes.Repeat("61", 256), Hex.Parse("0000"));
        var p = Parse(payload);
        Assert.That(p.Status, Is.EqualTo(AliveParseStatus.Refused));
        Assert.That(p.Hi, Is.EqualTo(5));
    }

    [Test]
    public void Empty_name_with_a_one_byte_extra_is_accepted()
    {
        var p = Parse("78 0457 4d 00 0006 0005 0000 0001 41");
        Assert.That(p, Is.EqualTo(new Parsed(AliveParseStatus.Ok, 0x457, 0x4d, 0, 6, 5, "", "41")));
    }

    [Test]
    public void Bytes_after_the_extra_are_ignored()
    {
        var p = Parse("78 0457 4d 00 0006 0005 0003 666f6f 0000 ffffff");
        Assert.That(p, Is.EqualTo(new Parsed(AliveParseStatus.Ok, 0x457, 0x4d, 0, 6, 5, "66 6f 6f", "")));
    }

    [Test]
    public void Extra_may_hold_nuls()
    {
        // returns_valid_populated_extra_with_nulls: "ABC\0\0".
        var p = Parse("78 0457 4d 00 0005 0005 0003 666f6f 0005 4142430000");
        Assert.That(p.Status, Is.EqualTo(AliveParseStatus.Ok));
        Assert.That(p.Extra, Is.EqualTo("41 42 43 00 00"));
    }

    [Test]
    public void Name_with_spaces_and_newlines_is_accepted()
    {
        // "x at port 1\nname y" corrupts NAMES text in OTP too; it is still accepted.
        var p = Parse(WithName(Hex.Utf8("x at port 1\nname y")));
        Assert.That(p.Status, Is.EqualTo(AliveParseStatus.Ok));
    }
}
