// Framing, malformed frames and connection lifecycle.
namespace FastEpmd.SystemTests.Differential;

internal static partial class DiffSequences
{
    private static IEnumerable<DiffSequence> Frames()
    {
        yield return new DiffSequence("frame_zero_length_closed")
            .Open(1).Send(1, "00 00").Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("frame_ten_zero_bytes_closed")
            .Open(1).Send(1, "00 00 00 00 00 00 00 00 00 00").Read(1, X.Closed);

        // 3058 is one past the largest Length: closed as soon as the header is in, nothing drained.
        yield return new DiffSequence("frame_length_3058_closed_at_header")
            .Open(1).Send(1, "0b f2").Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("frame_length_65535_with_data_closed")
            .Open(1).Send(1, Hex.Cat(Hex.Parse("ff ff 6e"), new byte[2000])).Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("frame_length_3057_served")
            .Open(1).Send(1, Hex.Cat(Hex.Parse("0b f1 6e"), Enumerable.Repeat((byte)0x41, 3056).ToArray()))
            .Read(1, X.Names());

        yield return new DiffSequence("frame_length_3057_split_served")
            .Open(1).Send(1, Hex.Parse("0b f1 6e")).Sleep(50)
            .Send(1, Enumerable.Repeat((byte)0x41, 3056).ToArray())
            .Read(1, X.Names());

        // Incomplete frames are closed only by the packet timeout (3 s here; OTP's sweep closes at ~4 s).
        yield return new DiffSequence("frame_no_data_times_out")
            .Open(1).Quiet(1, 1000).Read(1, X.Closed, DiffSequence.PacketTimeoutReadMs);

        yield return new DiffSequence("frame_one_byte_times_out")
            .Open(1).Send(1, "00").Quiet(1, 1000).Read(1, X.Closed, DiffSequence.PacketTimeoutReadMs);

        yield return new DiffSequence("frame_header_only_times_out")
            .Open(1).Send(1, "00 03").Quiet(1, 1000).Read(1, X.Closed, DiffSequence.PacketTimeoutReadMs);

        yield return new DiffSequence("frame_partial_packet_times_out")
            .Open(1).Send(1, Hex.Cat(Hex.Parse("00 64"), Hex.Ascii("0123456789abcdef"))).Quiet(1, 1000)
            .Read(1, X.Closed, DiffSequence.PacketTimeoutReadMs);

        yield return new DiffSequence("frame_partial_does_not_block_others")
            .Open(1).Send(1, "00 05 7a 66")
            .Open(2).Send(2, Requests.Alive("foo", 1042)).ReadN(2, 6, X.V())
            .Names(X.Names(("foo", 1042)))
            .Quiet(1);

        yield return new DiffSequence("frame_partial_then_half_close_silent")
            .Open(1).Send(1, "00 05 7a 66 6f").HalfClose(1).Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("frame_partial_then_close_daemon_serves")
            .Open(1).Send(1, "00 05 7a 66 6f").Close(1)
            .Open(2).Send(2, "00").Reset(2)
            .Names(X.Names());

        yield return new DiffSequence("frame_half_close_without_data")
            .Open(1).HalfClose(1).Read(1, X.Closed);

        // Tags other than x z n d k s, including the old protocol's 'a' (ALIVE_REQ) and 'p' (PORT_REQ).
        foreach (var (label, frame) in new[]
        {
            ("a_old_alive_req", "00 06 61 04 12 66 6f 6f"),
            ("p_old_port_req", "00 04 70 66 6f 6f"),
            ("r", "00 01 72"),
            ("c", "00 01 63"),
            ("y", "00 04 79 00 00 01"),
            ("v", "00 06 76 00 00 00 00 04"),
            ("w", "00 02 77 01"),
            ("upper_z", "00 04 5a 66 6f 6f"),
            ("nul", "00 01 00"),
            ("upper_n", "00 01 4e"),
        })
        {
            yield return new DiffSequence($"tag_{label}_closed_silently")
                .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
                .Request(frame, X.Closed)
                .Names(X.Names(("foo", 1042)));
        }

        // Bytes beyond the frame in the read that completes it: closed, no reply (OTP never answers a pipelined request).
        yield return new DiffSequence("coalesced_names_plus_one_byte_closed")
            .Open(1).Send(1, "00 01 6e 00").Read(1, X.Closed);

        yield return new DiffSequence("coalesced_two_names_frames_closed")
            .Open(1).Send(1, "00 01 6e 00 01 6e").Read(1, X.Closed);

        yield return new DiffSequence("coalesced_port_please_plus_one_byte_closed")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Hex.Cat(Requests.PortPlease("foo"), Hex.Parse("00"))).Read(2, X.Closed);

        yield return new DiffSequence("coalesced_alive_plus_one_byte_not_registered")
            .Open(1).Send(1, Hex.Cat(Requests.Alive("foo", 1042), Hex.Parse("00"))).Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("coalesced_alive_plus_names_not_registered")
            .Open(1).Send(1, Hex.Cat(Requests.Alive("foo", 1042), Requests.Names)).Read(1, X.Closed)
            .Names(X.Names());

        yield return new DiffSequence("split_names_byte_by_byte")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).SendSplit(2, Requests.Names).Read(2, X.Names(("foo", 1042)));

        yield return new DiffSequence("split_alive_byte_by_byte")
            .Open(1).SendSplit(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Names(X.Names(("foo", 1042)));

        yield return new DiffSequence("split_port_please_byte_by_byte")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).SendSplit(2, Requests.PortPlease("foo")).Read(2, X.W(1042, "foo"));

        yield return new DiffSequence("split_header_then_body")
            .Open(1).Send(1, "00").Sleep(50).Send(1, "01").Sleep(50).Send(1, "6e").Read(1, X.Names());
    }

    private static IEnumerable<DiffSequence> Lifecycle()
    {
        yield return new DiffSequence("half_close_after_names_gets_reply")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Names).HalfClose(2).Read(2, X.Names(("foo", 1042)));

        yield return new DiffSequence("half_close_after_port_please_gets_reply")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.PortPlease("foo")).HalfClose(2).Read(2, X.W(1042, "foo"));

        yield return new DiffSequence("half_close_after_kill_gets_reply")
            .Open(1).Send(1, Requests.Kill).HalfClose(1).Read(1, Ok)
            .Exit("exited 0");

        // An ALIVE socket ends the registration on FIN, RST or any byte.
        yield return new DiffSequence("alive_half_close_unregisters")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .HalfClose(1).Read(1, X.Closed)
            .AwaitGone("foo").Names(X.Names());

        yield return new DiffSequence("alive_close_unregisters")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Close(1).AwaitGone("foo").Names(X.Names())
            .Dump(X.Dump(X.DumpOld("foo", 1042)));

        yield return new DiffSequence("alive_reset_unregisters")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("bar", 1043)).ReadN(2, 6, X.V())
            .Reset(1).AwaitGone("foo").Names(X.Names(("bar", 1043)))
            .Quiet(2);

        yield return new DiffSequence("alive_then_one_byte_unregisters")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Send(1, "00").Read(1, X.Closed)
            .AwaitGone("foo").Names(X.Names());

        yield return new DiffSequence("alive_then_names_request_unregisters_no_reply")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Send(1, Requests.Names).Read(1, X.Closed)
            .AwaitGone("foo").Names(X.Names());

        yield return new DiffSequence("alive_then_second_alive_unregisters_no_reply")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Send(1, Requests.Alive("bar", 1043)).Read(1, X.Closed)
            .AwaitGone("foo").Names(X.Names());

        yield return new DiffSequence("alive_socket_never_times_out")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Quiet(1, 4000)
            .Names(X.Names(("foo", 1042)));

        // A refused registration's socket is kept like an ALIVE socket until the peer sends or closes.
        yield return new DiffSequence("alive_refused_socket_kept_until_byte")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("foo", 2000)).ReadN(2, 6, X.VErr).Quiet(2, 500)
            .Send(2, "00").Read(2, X.Closed)
            .Names(X.Names(("foo", 1042)))
            .Quiet(1);

        yield return new DiffSequence("alive_refused_socket_half_close_keeps_owner")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("foo", 2000, hi: 5, lo: 5)).ReadN(2, 4, X.YErr)
            .HalfClose(2).Read(2, X.Closed)
            .Sleep(200)
            .Names(X.Names(("foo", 1042)))
            .Quiet(1);

        // epmd_SUITE socket_reset_before_alive2_reply_is_written: no zombie registration.
        yield return new DiffSequence("alive_reset_before_reply_written",
                "-packet_timeout", "2", "-delay_write", "1", "-relaxed_command_check")
            .Open(1).Send(1, Requests.Alive("test", 1042)).Sleep(500).Reset(1)
            .Sleep(1600)
            .Names(X.Names());
    }
}
