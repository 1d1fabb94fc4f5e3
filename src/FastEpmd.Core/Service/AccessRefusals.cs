// What the access rules beyond OTP refused, counted since start (plain fields: the loop's thread
// writes them, exporters read them).
namespace FastEpmd.Service;

internal sealed class AccessRefusals
{
    /// <summary>Non-local peers outside -allow, closed at accept.</summary>
    public long NotAllowed;

    /// <summary>Connections past -max_per_peer from one non-local address, closed at accept.</summary>
    public long OverPeerCap;

    /// <summary>NAMES from non-local peers under -names local, closed without a reply.</summary>
    public long NamesNotLocal;
}
