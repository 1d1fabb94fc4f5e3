// ALIVE2_X_RESP ('v') and ALIVE2_RESP ('y'), chosen by the request's HighestVersion.
//   v: +-----+--------+--------------+     y: +-----+--------+--------------+
//      | 'v' | Result | Creation (4) |        | 'y' | Result | Creation (2) |
//      +-----+--------+--------------+        +-----+--------+--------------+
using System.Buffers.Binary;

namespace FastEpmd.Wire;

internal static class AliveReply
{
    /// <summary>Distribution version 6 (OTP 23) introduced 32-bit creations.</summary>
    public const int ExtendedFromVersion = 6;

    /// <summary>OTP sends creation 99 with every refusal.</summary>
    public const uint RefusedCreation = 99;

    public static int WriteSuccess(Span<byte> destination, ushort highestVersion, uint creation) =>
        Write(destination, 0, WireCreation(highestVersion, creation), highestVersion >= ExtendedFromVersion);

    /// <summary>The creation as a node of this version is told it: v5 creations are 1..3.</summary>
    public static uint WireCreation(ushort highestVersion, uint creation) =>
        highestVersion >= ExtendedFromVersion ? creation : creation % 3 + 1;

    public static int WriteRefused(Span<byte> destination, ushort highestVersion) =>
        Write(destination, 1, RefusedCreation, highestVersion >= ExtendedFromVersion);

    private static int Write(Span<byte> destination, byte result, uint creation, bool extended)
    {
        destination[1] = result;
        if (extended)
        {
            destination[0] = Tags.AliveExtendedReply;
            BinaryPrimitives.WriteUInt32BigEndian(destination.Slice(2), creation);
            return 6;
        }
        destination[0] = Tags.AliveReply;
        BinaryPrimitives.WriteUInt16BigEndian(destination.Slice(2), (ushort)creation);
        return 4;
    }
}
