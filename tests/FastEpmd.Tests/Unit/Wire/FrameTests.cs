// Request framing: the 2-byte length, its limits, trailing bytes and OTP's read sizes (up to 3059 bytes until the header is known, then exactly the rest).
using FastEpmd.Wire;

namespace FastEpmd.Tests.Unit.Wire;

public class FrameTests
{
    private static FrameStatus Read(string hex, out byte[] request)
    {
        var status = Frame.TryRead(Hex.Parse(hex), out var span);
        request = span.ToArray();
        return status;
    }

    [TestCase("")]
    [TestCase("00")]
    [TestCase("00 01")]
    [TestCase("00 03 7a 61")]
    public void Incomplete_frames_need_more(string hex)
    {
        Assert.That(Read(hex, out _), Is.EqualTo(FrameStatus.NeedMore));
    }

    [Test]
    public void Whole_names_request_is_complete_and_excludes_the_length()
    {
        Assert.That(Read("00 01 6e", out var request), Is.EqualTo(FrameStatus.Complete));
        Assert.That(Hex.Format(request), Is.EqualTo("6e"));
    }

    [Test]
    public void Zero_length_is_invalid_as_soon_as_the_header_is_in()
    {
        Assert.That(Read("00 00", out _), Is.EqualTo(FrameStatus.Invalid));
    }

    [TestCase("0b f2")]    // 3058
    [TestCase("0b f3")]    // 3059
    [TestCase("f6 18")]    // 63000, epmd_SUITE too_large
    [TestCase("ff ff")]
    public void Length_over_3057_is_invalid_with_only_the_header(string header)
    {
        Assert.That(Read(header, out _), Is.EqualTo(FrameStatus.Invalid));
    }

    [Test]
    public void Length_3057_is_accepted()
    {
        var bytes = new byte[2 + 3057];
        bytes[0] = 0x0b;
        bytes[1] = 0xf1;
        bytes[2] = 0x6e;
        Assert.That(Frame.TryRead(bytes.AsSpan(0, 2), out _), Is.EqualTo(FrameStatus.NeedMore));
        Assert.That(Frame.TryRead(bytes.AsSpan(0, 3058), out _), Is.EqualTo(FrameStatus.NeedMore));
        Assert.That(Frame.TryRead(bytes, out var request), Is.EqualTo(FrameStatus.Complete));
        Assert.That(request.Length, Is.EqualTo(3057));
    }

    [TestCase("00 01 6e 00")]             // NAMES + 1 byte
    [TestCase("00 01 6e 00 01 6e")]       // two NAMES frames in one segment
    public void Bytes_beyond_the_frame_are_invalid(string hex)
    {
        Assert.That(Read(hex, out _), Is.EqualTo(FrameStatus.Invalid));
    }

    [TestCase("", 3059)]
    [TestCase("00", 3058)]
    [TestCase("00 05", 5)]
    [TestCase("00 05 78 00", 3)]
    [TestCase("0b f1", 3057)]
    [TestCase("00 01 6e", 0)]
    public void Next_read_is_greedy_until_the_header_then_exactly_the_rest(string hex, int expected)
    {
        Assert.That(Frame.NextReadSize(Hex.Parse(hex)), Is.EqualTo(expected));
    }
}
