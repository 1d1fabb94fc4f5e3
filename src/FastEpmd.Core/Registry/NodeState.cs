namespace FastEpmd.Registry;

internal enum NodeState : byte
{
    Free,
    Registered,

    /// <summary>Unregistered but remembered, so the name's next registration gets a new creation.</summary>
    Remembered,
}
