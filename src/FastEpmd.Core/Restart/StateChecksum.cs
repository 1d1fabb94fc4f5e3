// The image's checksum: CRC32C (Castagnoli), hardware-accelerated through BitOperations.Crc32C, so
// keeping one record's slot current costs a few hundred nanoseconds, not a pass over every node.
using System.Buffers.Binary;
using System.Numerics;

namespace FastEpmd.Restart;

internal static class StateChecksum
{
    /// <summary>CRC32C of data, starting from seed (a slot seeds with its index, so a slot moved to another place fails).</summary>
    public static uint Compute(ReadOnlySpan<byte> data, uint seed = 0)
    {
        uint crc = ~seed;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data.Slice(8);
        }
        foreach (byte b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    /// <summary>The CRC of the concatenation: Continue(Compute(a), b) == Compute(a + b).</summary>
    public static uint Continue(uint crc, ReadOnlySpan<byte> data) => Compute(data, crc);
}
