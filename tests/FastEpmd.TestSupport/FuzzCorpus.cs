// Seeded request frames for the fuzzers: a corpus of requests written out by hand from the protocol,
// and AFL-style mutations over it (bit flips, interesting lengths, splices, coalescing). The same
// seed gives the same frames, so a failure names its seed and its iteration and can be replayed.
namespace FastEpmd.Testing;

public sealed class FuzzCorpus
{
    /// <summary>A small name pool, so that fuzzed registrations collide, stop and look each other up.</summary>
    private static readonly string[] s_names = { "a", "n1", "n2", "node", "alpha", "beta", "gamma", "x y", "\u00e9t\u00e9", "\U0001F608" };

    private static readonly byte[] s_tags = { 0x78, 0x7a, 0x6e, 0x64, 0x6b, 0x73, 0x61, 0x70, 0x72, 0x63, 0x79, 0x76, 0x77, 0x5a, 0x00, 0xff };
    private static readonly int[] s_interesting16 = { 0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 254, 255, 256, 1019, 1020, 1021, 1024, 3056, 3057, 3058, 3059, 32767, 32768, 65534, 65535 };
    private static readonly byte[] s_interesting8 = { 0, 1, 0x7f, 0x80, 0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xfe, 0xff, (byte)'x', (byte)'z', (byte)'n', (byte)'s' };

    private readonly Random _random;
    private readonly byte[][] _seeds;

    public FuzzCorpus(int seed)
    {
        _random = new Random(seed);
        _seeds = Seeds().ToArray();
    }

    public Random Random => _random;

    /// <summary>The hand-written corpus: valid requests of every kind plus OTP's edge cases (spec sections 0, 1, 8).</summary>
    public static IEnumerable<byte[]> Seeds()
    {
        foreach (var name in s_names)
        {
            yield return Requests.Alive(name, port: 4000, hi: 6, lo: 5);
            yield return Requests.Alive(name, port: 4001, hi: 5, lo: 5, type: 72);
            yield return Requests.PortPlease(name);
            yield return Requests.Stop(name);
        }
        yield return Requests.Alive("ext", hi: 0, lo: 0, extra: new byte[] { 0x41, 0x42, 0x43, 0, 0 });
        yield return Requests.AliveRaw(Array.Empty<byte>(), 1, 6, 5, 77, 0, new byte[] { 1 });      // empty name, Elen 1
        yield return Requests.AliveRaw(Hex.Ascii("foo\0bar"), 1, 6, 5, 77, 0, Array.Empty<byte>());  // NUL inside
        yield return Requests.AliveRaw(Hex.Ascii(new string('a', 256)), 1, 6, 5, 77, 0, Array.Empty<byte>());
        yield return Requests.AliveRaw(Hex.Utf8(string.Concat(Enumerable.Repeat("\U0001F608", 255))), 1, 6, 5, 77, 0, Array.Empty<byte>());
        yield return Requests.AliveRaw(Hex.Ascii("big"), 1, 6, 5, 77, 0, Enumerable.Repeat((byte)0xff, 1020).ToArray());
        yield return Requests.AliveRaw(Hex.Ascii("big"), 1, 6, 5, 77, 0, Enumerable.Repeat((byte)0xff, 1021).ToArray());
        yield return Hex.Parse("00 0b 78 0001 4d 00 0006 0005 0000");          // too small: no Elen
        yield return Hex.Parse("00 0e 78 0001 4d 00 0006 0005 0005 67 75 72 6b"); // Nlen past the frame
        yield return Hex.Parse("00 12 78 0001 4d 00 0006 0005 0005 6775726b61 ffff"); // Elen past the frame
        yield return Hex.Parse("00 03 7a 6e 00");
        yield return Hex.Parse("00 02 7a 00");
        yield return Hex.Parse("00 05 7a 6e 00 36 00");
        yield return Requests.PortPlease(new string('q', 254));
        yield return Requests.PortPlease(new string('q', 255));
        yield return Requests.Names;
        yield return Hex.Parse("00 04 6e 58 59 5a");
        yield return Requests.Dump;
        yield return Requests.Kill;
        yield return Hex.Parse("00 05 6b 6a 75 6e 6b");
        yield return Hex.Parse("00 01 73");
        yield return Hex.Parse("00 06 73 6e 31 00 7a 7a");
        foreach (byte tag in s_tags) yield return new byte[] { 0, 1, tag };
        yield return Hex.Parse("00 00");
        yield return Hex.Parse("00");
        yield return Hex.Parse("f6 18");
        yield return Hex.Cat(Hex.U16(3057), new byte[] { 0x6e }, new byte[3056]);
        yield return Hex.Cat(Hex.U16(3058), new byte[] { 0x6e }, new byte[3057]);
        yield return Hex.Cat(Requests.Names, Requests.Names);   // coalesced
        yield return Hex.Cat(Requests.Names, new byte[] { 0 });
    }

    /// <summary>The next fuzzed frame: mostly stacked mutations of a seed, some fresh random bytes.</summary>
    public byte[] Next()
    {
        int roll = _random.Next(100);
        if (roll < 6) return RandomBytes(_random.Next(0, 40));
        if (roll < 8) return RandomBytes(_random.Next(0, 3200));
        if (roll < 16) return RandomFrame();
        var frame = new List<byte>(_seeds[_random.Next(_seeds.Length)]);
        int mutations = 1 + _random.Next(4);
        for (int i = 0; i < mutations; i++) Mutate(frame);
        // Half of the time the length prefix is made true again, so a mutated body reaches the parser.
        if (frame.Count >= 2 && _random.Next(2) == 0 && frame.Count - 2 <= 65535)
        {
            frame[0] = (byte)((frame.Count - 2) >> 8);
            frame[1] = (byte)(frame.Count - 2);
        }
        return frame.ToArray();
    }

    /// <summary>A well-formed request with random fields: ALIVE2 mostly, over the small name pool.</summary>
    public byte[] RandomFrame()
    {
        string name = s_names[_random.Next(s_names.Length)];
        return _random.Next(6) switch
        {
            0 or 1 or 2 => Requests.Alive(name, port: _random.Next(65536), hi: _random.Next(2) == 0 ? 6 : _random.Next(65536),
                lo: _random.Next(65536), type: (byte)_random.Next(256), proto: (byte)_random.Next(256), extra: RandomBytes(_random.Next(0, 8))),
            3 => Requests.PortPlease(name),
            4 => Requests.Stop(name),
            _ => new byte[] { 0, 1, s_tags[_random.Next(s_tags.Length)] },
        };
    }

    private byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private void Mutate(List<byte> f)
    {
        switch (_random.Next(11))
        {
            case 0 when f.Count > 0:
                f[_random.Next(f.Count)] ^= (byte)(1 << _random.Next(8));
                break;
            case 1 when f.Count > 0:
                f[_random.Next(f.Count)] = s_interesting8[_random.Next(s_interesting8.Length)];
                break;
            case 2 when f.Count >= 2:
                SetU16(f, 0, s_interesting16[_random.Next(s_interesting16.Length)]);
                break;
            case 3 when f.Count >= 13:
                // ALIVE2's Nlen (frame offset 11) or the byte pair after the name (Elen).
                SetU16(f, _random.Next(2) == 0 ? 11 : Math.Min(f.Count - 2, 13 + _random.Next(Math.Max(1, f.Count - 14))),
                    s_interesting16[_random.Next(s_interesting16.Length)]);
                break;
            case 4:
                f.InsertRange(_random.Next(f.Count + 1), RandomBytes(1 + _random.Next(16)));
                break;
            case 5 when f.Count > 0:
            {
                int at = _random.Next(f.Count);
                f.RemoveRange(at, Math.Min(f.Count - at, 1 + _random.Next(16)));
                break;
            }
            case 6 when f.Count > 0:
            {
                int cut = _random.Next(f.Count);   // truncation
                f.RemoveRange(cut, f.Count - cut);
                break;
            }
            case 7:
            {
                var other = _seeds[_random.Next(_seeds.Length)];
                int from = _random.Next(other.Length + 1);
                f.InsertRange(_random.Next(f.Count + 1), other.Skip(from).Take(1 + _random.Next(32)));
                break;
            }
            case 8 when f.Count < 4096:
                f.AddRange(_random.Next(2) == 0 ? f.ToArray() : _seeds[_random.Next(_seeds.Length)]);
                break;
            case 9 when f.Count > 3:
                f[2] = s_tags[_random.Next(s_tags.Length)];
                break;
            default:
                if (f.Count > 0) f[_random.Next(f.Count)] = (byte)_random.Next(256);
                break;
        }
    }

    private static void SetU16(List<byte> f, int at, int value)
    {
        f[at] = (byte)(value >> 8);
        f[at + 1] = (byte)value;
    }
}
