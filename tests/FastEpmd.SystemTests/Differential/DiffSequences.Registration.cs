// ALIVE2 registration, duplicates, creations and PORT_PLEASE2 lookups.
namespace FastEpmd.SystemTests.Differential;

internal static partial class DiffSequences
{
    private static byte[] Z(byte[] nameBytes) => Hex.Frame(Hex.Cat(new byte[] { 0x7a }, nameBytes));

    private static string Emoji(int count) => string.Concat(Enumerable.Repeat("\U0001F608", count));

    private static IEnumerable<DiffSequence> Registration()
    {
        yield return new DiffSequence("alive2_v6_registers_and_keeps_socket")
            .Open(1).Send(1, Requests.Alive("alpha", 1042)).ReadN(1, 6, X.V()).Quiet(1)
            .Names(X.Names(("alpha", 1042)))
            .Request(Requests.PortPlease("alpha"), X.W(1042, "alpha"))
            .Quiet(1);

        yield return new DiffSequence("alive2_v5_gets_short_reply")
            .Open(1).Send(1, Requests.Alive("alpha", 1042, hi: 5, lo: 5)).ReadN(1, 4, X.Y()).Quiet(1)
            .Request(Requests.PortPlease("alpha"), X.W(1042, "alpha", hi: 5, lo: 5));

        yield return new DiffSequence("alive2_highest_version_0_gets_short_reply")
            .Open(1).Send(1, Requests.Alive("alpha", 1042, hi: 0, lo: 0)).ReadN(1, 4, X.Y()).Quiet(1)
            .Request(Requests.PortPlease("alpha"), X.W(1042, "alpha", hi: 0, lo: 0));

        // The reply form follows HighestVersion only: hi 5 with lo 6 still gets the short 'y' reply.
        yield return new DiffSequence("alive2_reply_form_follows_highest_version_only")
            .Open(1).Send(1, Requests.Alive("five", 1042, hi: 5, lo: 6)).ReadN(1, 4, X.Y())
            .Open(2).Send(2, Requests.Alive("six", 1043, hi: 6, lo: 6)).ReadN(2, 6, X.V())
            .Open(3).Send(3, Requests.Alive("seven", 1044, hi: 7, lo: 0)).ReadN(3, 6, X.V())
            .Request(Requests.PortPlease("five"), X.W(1042, "five", hi: 5, lo: 6));

        // The exact frame an OTP 25.2.3 node sends.
        yield return new DiffSequence("alive2_real_node_frame")
            .Open(1).Send(1, "00 12 78 9d 6d 4d 00 00 06 00 05 00 05 61 6c 70 68 61 00 00").ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("alpha"), "77 00 9d 6d 4d 00 00 06 00 05 00 05 61 6c 70 68 61 00 00 | closed");

        // Type, protocol and versions are not checked, only echoed: hidden 'H', proto 1, hi 65535 > lo 7.
        yield return new DiffSequence("alive2_fields_echoed_unchecked")
            .Open(1).Send(1, "00 12 78 0f a0 48 01 ff ff 00 07 00 03 68 69 64 00 02 01 02").ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("hid"), "77 00 0f a0 48 01 ff ff 00 07 00 03 68 69 64 00 02 01 02 | closed");

        yield return new DiffSequence("alive2_duplicate_refused_v6_owner_kept")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("foo", 2000)).ReadN(2, 6, X.VErr).Quiet(2)
            .Names(X.Names(("foo", 1042)))
            .Request(Requests.PortPlease("foo"), X.W(1042, "foo"))
            .Quiet(1);

        yield return new DiffSequence("alive2_duplicate_refused_v5")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("foo", 2000, hi: 5, lo: 5)).ReadN(2, 4, X.YErr).Quiet(2)
            .Names(X.Names(("foo", 1042)));

        yield return new DiffSequence("alive2_duplicate_check_is_case_sensitive")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("Foo", 1043)).ReadN(2, 6, X.V())
            .Names(X.Names(("Foo", 1043), ("foo", 1042)));

        yield return new DiffSequence("alive2_two_names_same_port")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("bar", 1042)).ReadN(2, 6, X.V())
            .Names(X.Names(("bar", 1042), ("foo", 1042)));

        yield return new DiffSequence("alive2_reregister_after_close_bumps_creation_v6")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Close(1).AwaitGone("foo")
            .Open(2).Send(2, Requests.Alive("foo", 1043)).ReadN(2, 6, X.V("<cr32 +1>"))
            .Names(X.Names(("foo", 1043)));

        yield return new DiffSequence("alive2_reregister_after_close_bumps_creation_v5")
            .Open(1).Send(1, Requests.Alive("foo", 1042, hi: 5, lo: 5)).ReadN(1, 4, X.Y())
            .Close(1).AwaitGone("foo")
            .Open(2).Send(2, Requests.Alive("foo", 1043, hi: 5, lo: 5)).ReadN(2, 4, X.Y("<cr16 +1>"))
            .Close(2).AwaitGone("foo")
            .Open(3).Send(3, Requests.Alive("foo", 1044, hi: 5, lo: 5)).ReadN(3, 4, X.Y("<cr16 +1>"));

        yield return new DiffSequence("alive2_same_record_v5_then_v6")
            .Open(1).Send(1, Requests.Alive("foo", 1042, hi: 5, lo: 5)).ReadN(1, 4, X.Y())
            .Close(1).AwaitGone("foo")
            .Open(2).Send(2, Requests.Alive("foo", 1043)).ReadN(2, 6, X.V())
            .Request(Requests.PortPlease("foo"), X.W(1043, "foo"));

        yield return new DiffSequence("alive2_extra_with_nuls_echoed")
            .Open(1).Send(1, Requests.Alive("foo", 1042, extra: Hex.Parse("41 42 43 00 00"))).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("foo"), X.W(1042, 77, 0, 6, 5, Hex.Ascii("foo"), Hex.Parse("41 42 43 00 00")));

        // Bytes after Extra inside the frame are ignored.
        yield return new DiffSequence("alive2_bytes_after_extra_ignored")
            .Open(1).Send(1, "00 12 78 04 12 4d 00 00 06 00 05 00 03 66 6f 6f 00 00 5a 5a").ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("foo"), X.W(1042, "foo"));

        // Nlen = 0, Elen = 1: the frame has 14 bytes, so the empty name is accepted (NAMES then shows two spaces).
        yield return new DiffSequence("alive2_empty_name_accepted")
            .Open(1).Send(1, "00 0e 78 04 12 4d 00 00 06 00 05 00 00 00 01 45").ReadN(1, 6, X.V()).Quiet(1)
            .Names(X.Names(("", 1042)));

        yield return new DiffSequence("alive2_unicode_name_roundtrip")
            .Open(1).Send(1, Requests.Alive("\U0001F608", 1042, hi: 5, lo: 5, type: 72)).ReadN(1, 4, X.Y())
            .Request(Requests.PortPlease("\U0001F608"), X.W(1042, "\U0001F608", hi: 5, lo: 5, type: 72));

        yield return new DiffSequence("alive2_long_unicode_name_roundtrip")
            .Open(1).Send(1, Requests.Alive(Emoji(201), 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(Emoji(201)), X.W(1042, Emoji(201)));

        yield return new DiffSequence("alive2_over_ipv6_loopback")
            .Open(1, "::1").Send(1, Requests.Alive("six", 1042)).ReadN(1, 6, X.V()).Quiet(1)
            .Names(X.Names(("six", 1042)));

        yield return new DiffSequence("port_please_missing")
            .Request(Requests.PortPlease("nosuch"), X.WMissing);

        yield return new DiffSequence("port_please_is_case_sensitive")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("FOO"), X.WMissing)
            .Request(Requests.PortPlease("fo"), X.WMissing);

        yield return new DiffSequence("port_please_after_unregister_missing")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Close(1).AwaitGone("foo")
            .Request(Requests.PortPlease("foo"), X.WMissing);

        yield return new DiffSequence("port_please_trailing_nul_stripped")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request("00 05 7a 66 6f 6f 00", X.W(1042, "foo"))
            .Request("00 05 7a 66 6f 78 00", X.WMissing);

        yield return new DiffSequence("port_please_double_trailing_nul_silent")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request("00 06 7a 66 6f 6f 00 00", X.Closed);

        yield return new DiffSequence("port_please_nul_inside_silent")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request("00 05 7a 66 00 6f 6f", X.Closed)
            .Request("00 04 7a 6e 00 36", X.Closed);

        yield return new DiffSequence("port_please_empty_name_silent")
            .Request("00 01 7a", X.Closed)
            .Request("00 02 7a 00", X.Closed);

        yield return new DiffSequence("port_please_invalid_utf8_silent")
            .Request("00 02 7a ff", X.Closed)
            .Request("00 04 7a 66 e2 82", X.Closed)
            .Request("00 03 7a c0 80", X.Closed);

        yield return new DiffSequence("port_please_over_ipv6")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2, "::1").Send(2, Requests.PortPlease("foo")).Read(2, X.W(1042, "foo"));
    }

    private static IEnumerable<DiffSequence> NameLimits()
    {
        string a255 = new('a', 255), a254 = new('a', 254), a256 = new('a', 256);

        yield return new DiffSequence("alive2_nul_inside_name_silent")
            .Open(1).Send(1, Requests.Alive("foo\0bar", 1042)).Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("alive2_nul_terminated_name_silent")
            .Open(1).Send(1, Requests.Alive("foobar\0", 1042)).Read(1, X.Closed)
            .Names(X.Names());

        foreach (var (label, bytes) in new[]
        {
            ("overlong", "c0 80"), ("surrogate", "ed a0 80"), ("truncated", "66 e2 82"),
            ("above_10ffff", "f4 90 80 80"), ("lone_continuation", "80 66"),
        })
        {
            yield return new DiffSequence($"alive2_invalid_utf8_{label}_refused")
                .Open(1).Send(1, Requests.AliveRaw(Hex.Parse(bytes), 1042, 6, 5, 77, 0, Array.Empty<byte>()))
                .ReadN(1, 6, X.VErr).Quiet(1)
                .Names(X.Names());
        }

        yield return new DiffSequence("alive2_invalid_utf8_refused_v5")
            .Open(1).Send(1, Requests.AliveRaw(Hex.Parse("c3 28"), 1042, 5, 5, 77, 0, Array.Empty<byte>()))
            .ReadN(1, 4, X.YErr).Quiet(1);

        // 255 code points register, but a lookup of 255 is closed silently (OTP counts the terminating NUL as a code point: off by one).
        yield return new DiffSequence("alive2_255_ascii_registers_lookup_silent")
            .Open(1).Send(1, Requests.Alive(a255, 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(a255), X.Closed)
            .Names(X.Names((a255, 1042)));

        yield return new DiffSequence("alive2_254_ascii_lookup_found")
            .Open(1).Send(1, Requests.Alive(a254, 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(a254), X.W(1042, a254));

        yield return new DiffSequence("alive2_256_ascii_refused")
            .Open(1).Send(1, Requests.Alive(a256, 1042)).ReadN(1, 6, X.VErr).Quiet(1)
            .Request(Requests.PortPlease(a256), X.Closed);

        yield return new DiffSequence("alive2_255_four_byte_chars_1020_bytes_registers")
            .Open(1).Send(1, Requests.Alive(Emoji(255), 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(Emoji(255)), X.Closed)
            .Names(X.Names((Emoji(255), 1042)));

        yield return new DiffSequence("alive2_254_four_byte_chars_lookup_found")
            .Open(1).Send(1, Requests.Alive(Emoji(254), 1042)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(Emoji(254)), X.W(1042, Emoji(254)));

        yield return new DiffSequence("alive2_1021_byte_name_refused")
            .Open(1).Send(1, Requests.Alive(Emoji(255) + "a", 1042)).ReadN(1, 6, X.VErr).Quiet(1)
            .Names(X.Names());

        var extra1020 = Enumerable.Repeat((byte)0xff, 1020).ToArray();
        yield return new DiffSequence("alive2_elen_1020_registers_and_echoes")
            .Open(1).Send(1, Requests.Alive("gurka", 1042, extra: extra1020)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease("gurka"), X.W(1042, 77, 0, 6, 5, Hex.Ascii("gurka"), extra1020));

        // The largest reply: 254 four-byte code points (1016 bytes) and a 1020-byte extra.
        yield return new DiffSequence("alive2_largest_port2_reply")
            .Open(1).Send(1, Requests.Alive(Emoji(254), 1042, extra: extra1020)).ReadN(1, 6, X.V())
            .Request(Requests.PortPlease(Emoji(254)), X.W(1042, 77, 0, 6, 5, Hex.Utf8(Emoji(254)), extra1020));

        yield return new DiffSequence("alive2_elen_1021_refused")
            .Open(1).Send(1, Requests.Alive("gurka", 1042, extra: new byte[1021])).ReadN(1, 6, X.VErr).Quiet(1)
            .Names(X.Names());

        // Elen = 5 with no extra bytes in the frame: buffer_overrun_1.
        yield return new DiffSequence("alive2_elen_beyond_frame_silent")
            .Open(1).Send(1, "00 12 78 04 12 4d 00 00 06 00 05 00 05 67 75 72 6b 61 00 05").Read(1, X.Closed)
            .Names(X.Names());

        // Nlen = 100 with a 5-byte name in the frame.
        yield return new DiffSequence("alive2_nlen_beyond_frame_silent")
            .Open(1).Send(1, "00 12 78 04 12 4d 00 00 06 00 05 00 64 67 75 72 6b 61 00 00").Read(1, X.Closed)
            .Names(X.Names());

        // Nlen = 6 for a 5-byte name: Nlen + 13 > Length (OTP closes silently).
        yield return new DiffSequence("alive2_nlen_one_too_long_silent")
            .Open(1).Send(1, "00 12 78 04 12 4d 00 00 06 00 05 00 06 67 75 72 6b 61 00 00").Read(1, X.Closed);

        yield return new DiffSequence("alive2_too_small_without_elen_silent")
            .Open(1).Send(1, "00 0b 78 04 12 4d 00 00 06 00 05 00 00").Read(1, X.Closed);

        yield return new DiffSequence("alive2_too_small_without_nlen_silent")
            .Open(1).Send(1, "00 09 78 04 12 4d 00 00 06 00 05").Read(1, X.Closed);

        yield return new DiffSequence("alive2_length_13_empty_name_silent")
            .Open(1).Send(1, "00 0d 78 04 12 4d 00 00 06 00 05 00 00 00 00").Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("alive2_tag_only_silent")
            .Open(1).Send(1, "00 01 78").Read(1, X.Closed);
    }
}
