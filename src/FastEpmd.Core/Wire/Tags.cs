// Every request and reply tag of the epmd protocol, in one place.
namespace FastEpmd.Wire;

internal static class Tags
{
    public const byte AliveRequest = (byte)'x';        // ALIVE2_REQ
    public const byte AliveExtendedReply = (byte)'v';  // ALIVE2_X_RESP (32-bit creation)
    public const byte AliveReply = (byte)'y';          // ALIVE2_RESP (16-bit creation)
    public const byte PortPleaseRequest = (byte)'z';   // PORT_PLEASE2_REQ
    public const byte PortPleaseReply = (byte)'w';     // PORT2_RESP
    public const byte NamesRequest = (byte)'n';        // NAMES_REQ
    public const byte DumpRequest = (byte)'d';         // DUMP_REQ
    public const byte KillRequest = (byte)'k';         // KILL_REQ
    public const byte StopRequest = (byte)'s';         // STOP_REQ
}
