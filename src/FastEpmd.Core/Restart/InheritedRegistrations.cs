// The registrations a previous process left: a state image and the ALIVE sockets by name
// ("alive-{key}"), from systemd's descriptor store or from a handoff (-upgrade). Nothing passed
// is trusted: an image that fails its checks means starting empty (one line says why); the service
// restores the registry from a valid one, and each socket goes to the epmd endpoint through the
// restart seam, which adopts it only if it is a live, silent connection of a restored registration.
// Everything else is dropped with one line (a registration as a deregistration, a socket closed).
// Export is the other side: the image and every endpoint's descriptors, for a handoff.
using FastEpmd.Diagnostics;
using FastEpmd.Endpoints.Control;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Endpoints.Metrics;
using FastEpmd.Interop;
using FastEpmd.Loop;
using FastEpmd.Service;
using FastEpmd.Upgrade;

namespace FastEpmd.Restart;

internal sealed class InheritedRegistrations
{
    private InheritedRegistrations(DecodedState? image, string? imageProblem, List<(ulong Key, int Fd)> alive,
        List<(string Name, int Fd)> strays)
    {
        Image = image;
        ImageProblem = imageProblem;
        Alive = alive;
        Strays = strays;
    }

    /// <summary>The validated image; null: start empty.</summary>
    public DecodedState? Image { get; }

    /// <summary>Why there is no image (null when there is one, or when none was expected).</summary>
    public string? ImageProblem { get; }

    /// <summary>Descriptors named alive-{key}.</summary>
    public List<(ulong Key, int Fd)> Alive { get; }

    /// <summary>Descriptors whose name names no registration kind ("stored", a malformed alive-).</summary>
    public List<(string Name, int Fd)> Strays { get; }

    /// <summary>Registrations adopted, and dropped, by Apply (for the start-up line and tests).</summary>
    public int Adopted { get; private set; }
    public int Dropped { get; private set; }

    /// <summary>Decodes the image and sorts the descriptors by name; nothing is logged or closed until Apply.</summary>
    /// <param name="problem">Why the caller has no image to give (image is then empty), or null.</param>
    public static InheritedRegistrations From(ReadOnlySpan<byte> image, IEnumerable<(string Name, int Fd)> descriptors,
        string? problem = null)
    {
        DecodedState? decoded = null;
        if (problem == null)
        {
            decoded = StateImage.Decode(image, out problem);
        }
        var alive = new List<(ulong, int)>();
        var strays = new List<(string, int)>();
        foreach (var (name, fd) in descriptors)
        {
            if (StoreNames.TryParseAlive(name, out ulong key)) alive.Add((key, fd));
            else strays.Add((name, fd));
        }
        return new InheritedRegistrations(decoded, problem, alive, strays);
    }

    /// <summary>A handoff's registrations: the image the receiver decoded before it accepted, and the sockets by key.</summary>
    public static InheritedRegistrations FromHandoff(DecodedState image, List<(ulong Key, int Fd)> alive) =>
        new(image, null, alive, new List<(string, int)>());

    /// <summary>
    /// Restores the registry through the service and hands each socket to the endpoint; on the loop
    /// thread, before serving. The service's mirror and the store, when set, see every drop.
    /// </summary>
    /// <param name="store">Where the sockets are kept (systemd), to forget what is dropped; or null.</param>
    /// <param name="removeStray">Removes a stray descriptor's name from the store (systemd), or null.</param>
    public void Apply(EpmdService service, IRestartable epmd, IDescriptorStore? store, Log log, Action<string>? removeStray)
    {
        foreach (var (name, fd) in Strays)
        {
            if (log.On(0)) log.Write(0, $"stored descriptor {fd} named \"{name}\" names no registration; closed");
            SocketIo.Close(fd);
            removeStray?.Invoke(name);
        }
        if (Image == null)
        {
            // One line for the lot: with no image, no socket can be matched to a registration.
            if (log.On(0)) log.Write(0, $"state image not used, starting with no registrations ({Alive.Count} stored sockets closed): {ImageProblem}");
            foreach (var (key, fd) in Alive)
            {
                SocketIo.Close(fd);
                store?.Remove(key);
            }
            return;
        }

        service.Restore(Image.SlotCount, Image.Records, Image.Dropped);
        Dropped += Image.Dropped.Count;
        foreach (var (key, fd) in Alive)
        {
            service.ReserveKeysThrough(key);
            if (!service.HasRestored(key))
            {
                if (log.On(0)) log.Write(0, $"stored descriptor {fd} ({StoreNames.Alive(key)}) closed: no registration in the state image has it");
                SocketIo.Close(fd);
                store?.Remove(key);
                continue;
            }
            if (epmd.Adopt(new HeldDescriptor(epmd.Name, HeldRole.Connection, key, fd))) Adopted++;
            else Dropped++;
        }
        // A registration whose socket never reached the store (a crash between the two) or was lost.
        Dropped += service.DropUnadopted();
    }

    /// <summary>
    /// A running loop's state for a handoff, on the loop thread: the image, and every endpoint's
    /// descriptors by role (the listeners, each registration's socket by key). The descriptors stay
    /// open and owned by the loop until each endpoint's LetGo.
    /// </summary>
    public static ExportedState Export(EpmdService service, IEnumerable<IRestartable> endpoints)
    {
        var image = new byte[StateImage.Measure(service.Registry)];
        StateImage.Encode(service.Registry, image);
        var held = new List<HeldDescriptor>();
        foreach (var endpoint in endpoints) endpoint.Export(held);
        var handed = new List<HandedDescriptor>(held.Count);
        foreach (var d in held) handed.Add(new HandedDescriptor(RoleOf(d), d.Key, d.Fd));
        return new ExportedState(image, handed);
    }

    /// <summary>The handoff's name for a held descriptor (the wire knows four kinds).</summary>
    private static DescriptorRole RoleOf(in HeldDescriptor d) => (d.Endpoint, d.Role) switch
    {
        (EpmdEndpoint.EndpointName, HeldRole.Connection) => DescriptorRole.Alive,
        (MetricsEndpoint.EndpointName, _) => DescriptorRole.MetricsListener,
        (ControlEndpoint.EndpointName, _) => DescriptorRole.ControlListener,
        _ => DescriptorRole.EpmdListener,
    };
}

/// <summary>What Export gives a handoff: the image bytes and every descriptor by its role.</summary>
internal sealed record ExportedState(byte[] Image, List<HandedDescriptor> Descriptors)
{
    public int Registrations => Descriptors.Count(d => d.Role == DescriptorRole.Alive);
}
