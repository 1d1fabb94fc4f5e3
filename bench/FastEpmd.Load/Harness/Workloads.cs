// The request streams the scenarios send.
using System.Buffers.Binary;
using System.Text;

namespace FastEpmd.Load.Harness;

/// <summary>The same request every time, or a fixed rotation of requests with their replies.</summary>
internal sealed class RotatingWorkload : Workload
{
    private readonly byte[][] _requests;
    private readonly Expected[] _expected;
    private long _next;

    public RotatingWorkload(IReadOnlyList<(byte[] Request, Expected Reply)> cases)
    {
        _requests = cases.Select(c => c.Request).ToArray();
        _expected = cases.Select(c => c.Reply).ToArray();
        MaxRequestLength = _requests.Max(r => r.Length);
    }

    public RotatingWorkload(byte[] request, Expected reply) : this(new[] { (request, reply) })
    {
    }

    public override int MaxRequestLength { get; }

    public override int NextRequest(Span<byte> destination, out Expected expected)
    {
        int i = (int)(_next++ % _requests.Length);
        expected = _expected[i];
        _requests[i].CopyTo(destination);
        return _requests[i].Length;
    }
}

/// <summary>ALIVE2 with a fresh name every time; the client closes after the 6-byte reply (deregistration).</summary>
internal sealed class ChurnWorkload(string prefix) : Workload
{
    private static readonly Expected s_accepted = new(new byte[] { (byte)'v', 0, 0, 0, 0, 0 }, 2, untilEof: false);
    private readonly byte[] _prefix = Encoding.ASCII.GetBytes(prefix);
    private long _next;

    public override int MaxRequestLength => 15 + _prefix.Length + 12;

    public override int NextRequest(Span<byte> destination, out Expected expected)
    {
        Span<byte> name = stackalloc byte[_prefix.Length + 12];
        _prefix.CopyTo(name);
        System.Buffers.Text.Utf8Formatter.TryFormat(_next++, name[_prefix.Length..], out int digits);
        expected = s_accepted;
        return Requests.WriteAlive(destination, name[..(_prefix.Length + digits)], 4711);
    }

    /// <summary>The creation: any 32-bit value but 0..3 (OTP bumps a creation below 4 to 4).</summary>
    public override bool CheckTail(ReadOnlySpan<byte> tail) => tail.Length == 4 && BinaryPrimitives.ReadUInt32BigEndian(tail) >= 4;
}
