// The metrics responder's request parser as a pure function of the bytes buffered so far.
using System.Text;
using FastEpmd.Endpoints.Metrics;

namespace FastEpmd.Tests.Unit.Metrics;

public class HttpRequestTests
{
    private static HttpParseStatus Parse(string text, out HttpTarget target) =>
        HttpRequest.TryParse(Encoding.Latin1.GetBytes(text), out target);

    [TestCase("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n", "metrics")]
    [TestCase("GET /metrics?name[]=up HTTP/1.1\r\n\r\n", "metrics")]
    [TestCase("GET /healthz HTTP/1.0\r\n\r\n", "health")]
    [TestCase("GET / HTTP/1.1\r\n\r\n", "notfound")]
    [TestCase("GET /metricsx HTTP/1.1\r\n\r\n", "notfound")]
    [TestCase("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", "notfound")]
    [TestCase("HEAD /healthz HTTP/1.1\r\n\r\n", "notfound")]
    public void WholeRequests_NameTheirTarget(string request, string expected)
    {
        Assert.That(Parse(request, out var target), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(target.ToString().ToLowerInvariant(), Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("GE")]
    [TestCase("GET /metrics HTTP/1.1")]
    [TestCase("GET /metrics HTTP/1.1\r")]
    [TestCase("GET /metrics HTTP/1.1\r\n")]
    [TestCase("GET /metrics HTTP/1.1\r\nHost: x\r\n")]
    [TestCase("GET /metrics HTTP/1.1\r\nHost: x\r\n\r")]
    public void PrefixesOfARequest_AreIncomplete(string prefix)
    {
        Assert.That(Parse(prefix, out _), Is.EqualTo(HttpParseStatus.Incomplete));
    }

    [Test]
    public void EveryPrefixOfAScrape_IsIncompleteUntilTheBlankLine()
    {
        const string scrape = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9100\r\nUser-Agent: Prometheus/2.42.0\r\n\r\n";
        for (int i = 0; i < scrape.Length; i++)
            Assert.That(Parse(scrape[..i], out _), Is.EqualTo(HttpParseStatus.Incomplete), scrape[..i]);
        Assert.That(Parse(scrape, out _), Is.EqualTo(HttpParseStatus.Complete));
    }

    [TestCase("\x16\x03\x01\x02\x00")]            // a TLS ClientHello
    [TestCase("\0\x01n")]                          // an epmd NAMES request on the wrong port
    [TestCase("GET /metrics HTTP/2.0\r\n\r\n")]
    [TestCase("GET /metrics\r\n\r\n")]            // HTTP/0.9
    [TestCase("GET  /metrics HTTP/1.1\r\n\r\n")]
    [TestCase("get /metrics HTTP/1.1\r\n\r\n")]
    [TestCase("GET metrics HTTP/1.1\r\n\r\n")]
    [TestCase("GET /met\x7frics HTTP/1.1\r\n\r\n")]
    [TestCase("GET /metrics HTTP/1.1\n\n")]        // a bare LF inside the request line
    [TestCase("\r\n\r\n")]
    public void MalformedRequestLines_AreBadRequests(string request)
    {
        Assert.That(Parse(request, out _), Is.EqualTo(HttpParseStatus.BadRequest));
    }

    [Test]
    public void ARequestLineOverItsLimit_IsABadRequest()
    {
        Assert.That(Parse("GET /" + new string('a', HttpRequest.MaxRequestLine), out _), Is.EqualTo(HttpParseStatus.BadRequest));
    }

    [Test]
    public void HeadersUpTo8KiB_AreAccepted_OneByteMoreIsTooLarge()
    {
        const string line = "GET /metrics HTTP/1.1\r\n";
        string Request(int total)
        {
            int filler = total - line.Length - "X: \r\n\r\n".Length;
            return line + "X: " + new string('a', filler) + "\r\n\r\n";
        }
        Assert.That(Request(HttpRequest.MaxHeaderBytes).Length, Is.EqualTo(HttpRequest.MaxHeaderBytes));
        Assert.That(Parse(Request(HttpRequest.MaxHeaderBytes), out var target), Is.EqualTo(HttpParseStatus.Complete));
        Assert.That(target, Is.EqualTo(HttpTarget.Metrics));
        Assert.That(Parse(Request(HttpRequest.MaxHeaderBytes + 1), out _), Is.EqualTo(HttpParseStatus.TooLarge));
        // Without the blank line yet: still too large once past the limit.
        Assert.That(Parse(line + "X: " + new string('a', HttpRequest.MaxHeaderBytes), out _), Is.EqualTo(HttpParseStatus.TooLarge));
    }
}
