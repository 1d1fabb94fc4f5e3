// The one HTTP/1.1 request the metrics listener understands: a request line and headers, parsed
// from the bytes buffered so far. Only the target matters; header values are skipped unread.
namespace FastEpmd.Endpoints.Metrics;

internal enum HttpParseStatus : byte
{
    /// <summary>No blank line yet: read more.</summary>
    Incomplete,
    Complete,

    /// <summary>Not a request line of the form METHOD SP TARGET SP HTTP/1.x: answer 400 and close.</summary>
    BadRequest,

    /// <summary>Request line and headers over MaxHeaderBytes: close without a reply.</summary>
    TooLarge,
}

internal enum HttpTarget : byte
{
    NotFound,
    Metrics,
    Health,
}

internal static class HttpRequest
{
    /// <summary>Request line plus headers, CRLF CRLF included.</summary>
    public const int MaxHeaderBytes = 8192;

    /// <summary>The longest request line accepted; a Prometheus scrape's is about 30 bytes.</summary>
    public const int MaxRequestLine = 1024;

    public static HttpParseStatus TryParse(ReadOnlySpan<byte> buffered, out HttpTarget target)
    {
        target = HttpTarget.NotFound;
        int lineEnd = buffered.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            if (buffered.Length > MaxRequestLine) return HttpParseStatus.BadRequest;
            // A byte that can never start or belong to a request line is bad at once.
            return IsRequestLineText(buffered) ? HttpParseStatus.Incomplete : HttpParseStatus.BadRequest;
        }
        if (lineEnd > MaxRequestLine || !TryRequestLine(buffered[..lineEnd], out target))
            return HttpParseStatus.BadRequest;

        // The request line's CRLF may be the first of the blank line's pair.
        int end = buffered[lineEnd..].IndexOf("\r\n\r\n"u8);
        if (end < 0) return buffered.Length > MaxHeaderBytes ? HttpParseStatus.TooLarge : HttpParseStatus.Incomplete;
        return lineEnd + end + 4 > MaxHeaderBytes ? HttpParseStatus.TooLarge : HttpParseStatus.Complete;
    }

    private static bool TryRequestLine(ReadOnlySpan<byte> line, out HttpTarget target)
    {
        target = HttpTarget.NotFound;
        if (!IsRequestLineText(line)) return false;
        int firstSpace = line.IndexOf((byte)' ');
        if (firstSpace <= 0) return false;
        var method = line[..firstSpace];
        var rest = line[(firstSpace + 1)..];
        int secondSpace = rest.IndexOf((byte)' ');
        if (secondSpace <= 0) return false;
        var path = rest[..secondSpace];
        var version = rest[(secondSpace + 1)..];
        if (!version.SequenceEqual("HTTP/1.1"u8) && !version.SequenceEqual("HTTP/1.0"u8)) return false;
        if (path[0] != (byte)'/' && path[0] != (byte)'*') return false;
        foreach (byte b in method)
        {
            if (b < 'A' || b > 'Z') return false;
        }
        int query = path.IndexOf((byte)'?');
        if (query >= 0) path = path[..query];
        if (method.SequenceEqual("GET"u8))
        {
            if (path.SequenceEqual("/metrics"u8)) target = HttpTarget.Metrics;
            else if (path.SequenceEqual("/healthz"u8)) target = HttpTarget.Health;
        }
        return true;
    }

    /// <summary>Visible ASCII and spaces only (RFC 9112: no controls, no bare CR or LF, no NUL).</summary>
    private static bool IsRequestLineText(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b < 0x20 || b > 0x7e)
            {
                // A lone trailing CR waits for its LF.
                if (b == (byte)'\r' && text.Length > 0 && text[^1] == b && text.IndexOf(b) == text.Length - 1) continue;
                return false;
            }
        }
        return true;
    }
}
