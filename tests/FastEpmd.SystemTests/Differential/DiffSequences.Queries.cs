// NAMES, DUMP, KILL and STOP; DUMP, KILL and STOP from local peers only.
namespace FastEpmd.SystemTests.Differential;

internal static partial class DiffSequences
{
    private static readonly string[] s_relaxed = { "-packet_timeout", "2", "-relaxed_command_check" };

    private static readonly string Stopped = X.Closing(X.T("STOPPED"));
    private static readonly string NoExistStopped = X.Closing(X.T("NOEXISTSTOPPED"));
    private const string Ok = "4f 4b | closed";
    private const string No = "4e 4f | closed";

    private static IEnumerable<DiffSequence> Queries()
    {
        yield return new DiffSequence("names_empty")
            .Names(X.Names());

        yield return new DiffSequence("names_one_node")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Names(X.Names(("foo", 1042)));

        yield return new DiffSequence("names_three_nodes_newest_first")
            .Open(1).Send(1, Requests.Alive("one", 1001)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("two", 1002, hi: 5, lo: 5)).ReadN(2, 4, X.Y())
            .Open(3).Send(3, Requests.Alive("three", 1003)).ReadN(3, 6, X.V())
            .Names(X.Names(("three", 1003), ("two", 1002), ("one", 1001)));

        yield return new DiffSequence("names_after_middle_node_leaves")
            .Open(1).Send(1, Requests.Alive("one", 1001)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("two", 1002)).ReadN(2, 6, X.V())
            .Open(3).Send(3, Requests.Alive("three", 1003)).ReadN(3, 6, X.V())
            .Close(2).AwaitGone("two")
            .Names(X.Names(("three", 1003), ("one", 1001)))
            .Open(4).Send(4, Requests.Alive("two", 1004)).ReadN(4, 6, X.V("<cr32 +1>"))
            .Names(X.Names(("two", 1004), ("three", 1003), ("one", 1001)));

        yield return new DiffSequence("names_ignores_bytes_after_tag")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request("00 04 6e 58 59 5a", X.Names(("foo", 1042)));

        yield return new DiffSequence("names_over_ipv6")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2, "::1").Send(2, Requests.Names).Read(2, X.Names(("foo", 1042)));

        // Names are raw bytes in the text: a newline in a name corrupts the NAMES text (OTP writes them as they are).
        yield return new DiffSequence("names_shows_raw_name_bytes")
            .Open(1).Send(1, Requests.Alive("x at port 1\nname y", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("\u00e9t\u00e9", 1043)).ReadN(2, 6, X.V())
            .Names(X.Names(("\u00e9t\u00e9", 1043), ("x at port 1\nname y", 1042)));

        yield return new DiffSequence("dump_empty")
            .Dump(X.Dump());

        yield return new DiffSequence("dump_one_active")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Dump(X.Dump(X.DumpActive("foo", 1042)));

        yield return new DiffSequence("dump_active_newest_first_then_old_oldest_first")
            .Open(1).Send(1, Requests.Alive("one", 1001)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("two", 1002)).ReadN(2, 6, X.V())
            .Open(3).Send(3, Requests.Alive("three", 1003)).ReadN(3, 6, X.V())
            .Open(4).Send(4, Requests.Alive("four", 1004)).ReadN(4, 6, X.V())
            .Close(1).AwaitGone("one")
            .Close(3).AwaitGone("three")
            .Dump(X.Dump(X.DumpActive("four", 1004), X.DumpActive("two", 1002), X.DumpOld("one", 1001), X.DumpOld("three", 1003)));

        yield return new DiffSequence("dump_over_ipv6")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2, "::1").Send(2, Requests.Dump).Read(2, X.Dump(X.DumpActive("foo", 1042)));
    }

    private static IEnumerable<DiffSequence> Admin()
    {
        yield return new DiffSequence("kill_empty_registry_exits_0")
            .Request(Requests.Kill, Ok)
            .Exit("exited 0")
            .Names("connect failed: ConnectionRefused");

        yield return new DiffSequence("kill_refused_with_live_node")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Kill, No)
            .Running().Quiet(1)
            .Names(X.Names(("foo", 1042)));

        yield return new DiffSequence("kill_relaxed_with_live_node_closes_alive_socket", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Kill, Ok)
            .Read(1, X.Closed)
            .Exit("exited 0");

        yield return new DiffSequence("kill_ignores_bytes_after_tag")
            .Request("00 05 6b 6a 75 6e 6b", Ok)
            .Exit("exited 0");

        // A connection left from a refused registration is not a live node (KILL with -relaxed_command_check off refuses only while a node is live).
        yield return new DiffSequence("kill_refused_alive_connection_not_a_node")
            .Open(1).Send(1, Requests.Alive(new string('a', 256), 1042)).ReadN(1, 6, X.VErr)
            .Request(Requests.Kill, Ok)
            .Read(1, X.Closed)
            .Exit("exited 0");

        yield return new DiffSequence("kill_after_node_left")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Close(1).AwaitGone("foo")
            .Request(Requests.Kill, Ok)
            .Exit("exited 0");

        yield return new DiffSequence("kill_over_ipv6")
            .Open(1, "::1").Send(1, Requests.Kill).Read(1, Ok)
            .Exit("exited 0");

        yield return new DiffSequence("stop_without_relaxed_silent")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Stop("foo"), X.Closed)
            .Request(Requests.Stop("nosuch"), X.Closed)
            .Quiet(1)
            .Names(X.Names(("foo", 1042)));

        yield return new DiffSequence("stop_relaxed_registered_node_closes_its_socket", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("bar", 1043)).ReadN(2, 6, X.V())
            .Request(Requests.Stop("foo"), Stopped)
            .Read(1, X.Closed)
            .Quiet(2)
            .Names(X.Names(("bar", 1043)));

        yield return new DiffSequence("stop_relaxed_unknown_name_noexist_stopped", s_relaxed)
            .Request(Requests.Stop("xxx42"), NoExistStopped);

        yield return new DiffSequence("stop_relaxed_is_case_sensitive", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Stop("FOO"), NoExistStopped)
            .Quiet(1);

        yield return new DiffSequence("stop_relaxed_length_one_silent", s_relaxed)
            .Request("00 01 73", X.Closed)
            .Running();

        yield return new DiffSequence("stop_relaxed_name_ends_at_nul", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request("00 09 73 66 6f 6f 00 6a 75 6e 6b", Stopped)
            .Read(1, X.Closed);

        yield return new DiffSequence("stop_relaxed_empty_name_after_nul", s_relaxed)
            .Request("00 02 73 00", NoExistStopped);

        // The environment variable turns relaxed mode on whatever its value, even "0" (OTP checks only that ERL_EPMD_RELAXED_COMMAND_CHECK is set).
        yield return new DiffSequence("stop_relaxed_by_environment_variable")
            .WithEnv("ERL_EPMD_RELAXED_COMMAND_CHECK", "0")
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Stop("foo"), Stopped)
            .Read(1, X.Closed);

        yield return new DiffSequence("stop_relaxed_then_reregister_bumps_creation", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Request(Requests.Stop("foo"), Stopped)
            .Read(1, X.Closed)
            .Open(2).Send(2, Requests.Alive("foo", 1043)).ReadN(2, 6, X.V("<cr32 +1>"))
            .Dump(X.Dump(X.DumpActive("foo", 1043)));

        yield return new DiffSequence("stop_relaxed_node_listed_as_old_in_dump", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2).Send(2, Requests.Alive("bar", 1043)).ReadN(2, 6, X.V())
            .Request(Requests.Stop("foo"), Stopped)
            .Read(1, X.Closed)
            .Dump(X.Dump(X.DumpActive("bar", 1043), X.DumpOld("foo", 1042)));

        yield return new DiffSequence("stop_relaxed_over_ipv6", s_relaxed)
            .Open(1).Send(1, Requests.Alive("foo", 1042)).ReadN(1, 6, X.V())
            .Open(2, "::1").Send(2, Requests.Stop("foo")).Read(2, Stopped)
            .Read(1, X.Closed);
    }
}
