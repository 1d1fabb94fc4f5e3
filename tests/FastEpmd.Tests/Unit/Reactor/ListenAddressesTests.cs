// Which addresses to listen on, from -address (loopback first, then each listed address, as OTP). Planning only: nothing binds here.
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.CommandLine;
using FastEpmd.Service;

namespace FastEpmd.Tests.Unit.Reactor;

// Planning only: nothing here binds a socket.
public class ListenAddressesTests
{
    private static List<string> Plan(out string? error, bool loopbackOnly = false, params string[] addresses)
    {
        var plan = ListenAddresses.Plan(new EpmdOptions { Addresses = addresses, LoopbackOnly = loopbackOnly }, out error);
        return plan.Select(a => (a.IsIPv6 ? "6 " : "4 ") + a + (a.Implicit ? " implicit" : "")).ToList();
    }

    private static List<string> Plan(params string[] addresses)
    {
        var plan = Plan(out var error, false, addresses);
        Assert.That(error, Is.Null);
        return plan;
    }

    [Test]
    public void No_list_listens_on_both_wildcards()
    {
        Assert.That(Plan(), Is.EqualTo(new[] { "4 0.0.0.0 implicit", "6 :: implicit" }));
    }

    [TestCase(" ")]
    [TestCase(" , ,, ")]
    public void List_of_only_separators_is_no_list(string list)
    {
        Assert.That(Plan(list), Is.EqualTo(new[] { "4 0.0.0.0 implicit", "6 :: implicit" }));
    }

    [Test]
    public void List_puts_the_loopbacks_first()
    {
        Assert.That(Plan("10.1.2.3"), Is.EqualTo(new[] { "4 127.0.0.1 implicit", "6 ::1 implicit", "4 10.1.2.3" }));
    }

    [Test]
    public void Tokens_split_on_commas_and_spaces_and_keep_their_order()
    {
        Assert.That(Plan("10.0.0.2, fe80::1 10.0.0.1,,2001:db8::5"),
            Is.EqualTo(new[] { "4 127.0.0.1 implicit", "6 ::1 implicit", "4 10.0.0.2", "6 fe80::1", "4 10.0.0.1", "6 2001:db8::5" }));
    }

    [Test]
    public void Exactly_127_0_0_1_and_colon_colon_1_are_skipped_but_other_loopbacks_are_added()
    {
        Assert.That(Plan("127.0.0.1,::1,127.0.0.2"), Is.EqualTo(new[] { "4 127.0.0.1 implicit", "6 ::1 implicit", "4 127.0.0.2" }));
    }

    [Test]
    public void Ipv4_wildcard_replaces_the_implicit_ipv4_loopback()
    {
        // OTP binds 127.0.0.1 and then exits 0 on 0.0.0.0 with EADDRINUSE (a trap we fix).
        Assert.That(Plan("0.0.0.0"), Is.EqualTo(new[] { "6 ::1 implicit", "4 0.0.0.0" }));
    }

    [Test]
    public void Ipv6_wildcard_replaces_the_implicit_ipv6_loopback()
    {
        Assert.That(Plan("::"), Is.EqualTo(new[] { "4 127.0.0.1 implicit", "6 ::" }));
    }

    [TestCase("bogus")]
    [TestCase("1.2.3")]
    [TestCase("1.2.3.4.5")]
    [TestCase("256.1.1.1")]
    [TestCase("1.2.3.-4")]
    [TestCase("0x1.2.3.4")]
    [TestCase("01.2.3.4")]           // inet_pton refuses leading zeros; OTP 25 says "cannot parse"
    [TestCase("1.2.3.04")]
    [TestCase("::ffff:1.2.3.4x")]
    [TestCase("fe80::1%eth0")]
    [TestCase("[::1]")]
    [TestCase("[::1]:80")]
    [TestCase("::1/128")]
    [TestCase("1:2:3:4:5:6:7:8:9")]
    [TestCase("localhost")]
    public void Unparsable_token_is_an_error_naming_it(string token)
    {
        var plan = Plan(out var error, false, "10.0.0.1," + token);
        Assert.That(error, Is.EqualTo($"cannot parse IP address \"{token}\""));
        Assert.That(plan, Is.Empty);
    }

    [Test]
    public void Ipv4_mapped_ipv6_parses_as_ipv6()
    {
        // It parses; binding it later fails with EINVAL, as in OTP.
        Assert.That(Plan("::ffff:127.0.0.1").Last(), Is.EqualTo("6 ::ffff:127.0.0.1"));
    }

    [Test]
    public void Thirteen_extra_addresses_fit_and_fourteen_are_an_error()
    {
        var thirteen = Enumerable.Range(1, 13).Select(i => "10.0.0." + i).ToArray();
        Assert.That(Plan(string.Join(',', thirteen)), Has.Count.EqualTo(15));

        var fourteen = Enumerable.Range(1, 14).Select(i => "10.0.0." + i).ToArray();
        var plan = Plan(out var error, false, string.Join(' ', fourteen));
        Assert.That(error, Is.EqualTo("cannot listen on more than 16 IP addresses"));
        Assert.That(plan, Is.Empty);
    }

    [Test]
    public void Skipped_loopbacks_do_not_count_toward_the_limit()
    {
        var list = Enumerable.Range(1, 13).Select(i => "10.0.0." + i).Append("127.0.0.1").Append("::1");
        Assert.That(Plan(string.Join(',', list)), Has.Count.EqualTo(15));
    }

    [Test]
    public void Several_list_entries_are_joined()
    {
        Assert.That(Plan("10.0.0.1", "10.0.0.2 10.0.0.3"), Has.Count.EqualTo(5));
    }

    [Test]
    public void Loopback_only_ignores_the_list()
    {
        Assert.That(Plan(out var error, true, "10.0.0.1"), Is.EqualTo(new[] { "4 127.0.0.1 implicit", "6 ::1 implicit" }));
        Assert.That(error, Is.Null);
    }
}
