// OTP epmd's usage text, byte for byte (OTP 25 with systemd support, as Debian builds it).
namespace FastEpmd.CommandLine;

internal static class UsageText
{
    // Captured from `/usr/bin/epmd -bogus` (stderr); md5 1666fa98c53465d18229852699ed8538.
    // OTP's wording is kept as it is, including the trailing space after "given when".
    // FastEpmd's extra flags are documented in README.md ("Command line") and the man page
    // (dist/man/fastepmd.8), never here, so that anything comparing this text with OTP's still matches.
    public const string Text =
        "usage: epmd [-d|-debug] [DbgExtra...] [-address List]\n" +
        "            [-port No] [-daemon] [-relaxed_command_check]\n" +
        "       epmd [-d|-debug] [-port No] [-names|-kill|-stop name]\n" +
        "\n" +
        "See the Erlang epmd manual page for info about the usage.\n" +
        "\n" +
        "Regular options\n" +
        "    -address List\n" +
        "        Let epmd listen only on the comma-separated list of IP\n" +
        "        addresses (and on the loopback interface).\n" +
        "    -port No\n" +
        "        Let epmd listen to another port than default 4369\n" +
        "    -d\n" +
        "    -debug\n" +
        "        Enable debugging. This will give a log to\n" +
        "        the standard error stream. It will shorten\n" +
        "        the number of saved used node names to 5.\n" +
        "\n" +
        "        If you give more than one debug flag you may\n" +
        "        get more debugging information.\n" +
        "    -daemon\n" +
        "        Start epmd detached (as a daemon)\n" +
        "    -relaxed_command_check\n" +
        "        Allow this instance of epmd to be killed with\n" +
        "        epmd -kill even if there are registered nodes.\n" +
        "        Also allows forced unregister (epmd -stop).\n" +
        "    -systemd\n" +
        "        Wait for socket from systemd. The option makes sense\n" +
        "        when started from .socket unit.\n" +
        "\n" +
        "DbgExtra options\n" +
        "    -packet_timeout Seconds\n" +
        "        Set the number of seconds a connection can be\n" +
        "        inactive before epmd times out and closes the\n" +
        "        connection (default 60).\n" +
        "\n" +
        "    -delay_accept Seconds\n" +
        "        To simulate a busy server you can insert a\n" +
        "        delay between epmd gets notified about that\n" +
        "        a new connection is requested and when the\n" +
        "        connections gets accepted.\n" +
        "\n" +
        "    -delay_write Seconds\n" +
        "        Also a simulation of a busy server. Inserts\n" +
        "        a delay before a reply is sent.\n" +
        "\n" +
        "Interactive options\n" +
        "    -names\n" +
        "        List names registered with the currently running epmd\n" +
        "    -kill\n" +
        "        Kill the currently running epmd\n" +
        "        (only allowed if -names show empty database or\n" +
        "        -relaxed_command_check was given when epmd was started).\n" +
        "    -stop Name\n" +
        "        Forcibly unregisters a name with epmd\n" +
        "        (only allowed if -relaxed_command_check was given when \n" +
        "        epmd was started).\n";
}
