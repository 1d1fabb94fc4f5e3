// The responder's replies: a status line, the headers a scraper and a probe need, and the body.
// Connection: close on every reply, so a connection carries exactly one request.
using System.Buffers.Text;

namespace FastEpmd.Endpoints.Metrics;

internal static class HttpResponse
{
    /// <summary>Room reserved before a body for the status line and headers.</summary>
    public const int HeaderRoom = 192;

    public static ReadOnlySpan<byte> MetricsType => "text/plain; version=0.0.4; charset=utf-8"u8;
    public static ReadOnlySpan<byte> TextType => "text/plain; charset=utf-8"u8;

    /// <summary>
    /// Writes the status line and headers into the HeaderRoom bytes before a body already at
    /// buffer[HeaderRoom..HeaderRoom + bodyLength]; returns where the response starts.
    /// </summary>
    public static int WriteHead(Span<byte> buffer, int status, ReadOnlySpan<byte> contentType, int bodyLength)
    {
        Span<byte> head = stackalloc byte[HeaderRoom];
        int n = Append(head, 0, "HTTP/1.1 "u8);
        n = Append(head, n, Reason(status));
        n = Append(head, n, "\r\nContent-Type: "u8);
        n = Append(head, n, contentType);
        n = Append(head, n, "\r\nContent-Length: "u8);
        Utf8Formatter.TryFormat(bodyLength, head[n..], out int digits);
        n += digits;
        n = Append(head, n, "\r\nConnection: close\r\n\r\n"u8);
        int start = HeaderRoom - n;
        head[..n].CopyTo(buffer[start..]);
        return start;
    }

    /// <summary>A short text body (status replies) at HeaderRoom; returns its length.</summary>
    public static int WriteText(Span<byte> buffer, ReadOnlySpan<byte> text)
    {
        text.CopyTo(buffer[HeaderRoom..]);
        return text.Length;
    }

    private static ReadOnlySpan<byte> Reason(int status) => status switch
    {
        200 => "200 OK"u8,
        400 => "400 Bad Request"u8,
        404 => "404 Not Found"u8,
        503 => "503 Service Unavailable"u8,
        _ => "500 Internal Server Error"u8,
    };

    private static int Append(Span<byte> buffer, int at, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(buffer[at..]);
        return at + bytes.Length;
    }
}
