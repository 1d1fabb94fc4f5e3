// The registrations a previous process left: a state image and the ALIVE sockets by name
// ("alive-{key}"), from systemd's descriptor store or from a handoff (-upgrade). Nothing passed
// is trusted: an image that fails its checks means starting empty (one line says why); each socket
// is adopted only if its registration is in the image and the socket is a live, silent connection;
// everything else is dropped with one line (a registration as a deregistration, a socket closed).
// Export is the other side: the image and (name, fd) pairs of a running loop, for a handoff.
using FastEpmd.Diagnostics;
using FastEpmd.Reactor;
using FastEpmd.Registry;
using FastEpmd.Service;
using FastEpmd.State;

namespace FastEpmd.Adoption;

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
    /// Restores the registry and adopts each live socket; on the loop thread, before serving. The
    /// service's mirror and the reactor's store, when set, see every drop.
    /// </summary>
    /// <param name="removeStray">Removes a stray descriptor's name from the store (systemd), or null.</param>
    public void Apply(EpmdService service, EpmdReactor reactor, Log log, Action<string>? removeStray)
    {
        var registry = service.Registry;
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
                reactor.DescriptorStore?.Remove(key);
            }
            return;
        }

        registry.Restore(Image);
        foreach (var (slot, why) in Image.Dropped)
        {
            if (log.On(0)) log.Write(0, $"state image slot {slot} dropped: {why}");
            service.Mirror?.Write(registry, slot);
            Dropped++;
        }
        var byKey = new Dictionary<ulong, int>();
        foreach (var restored in Image.Records)
        {
            if (restored.State == NodeState.Registered) byKey[restored.Key] = restored.Slot;
        }
        foreach (var (key, fd) in Alive)
        {
            registry.ReserveKeysThrough(key);
            if (!byKey.Remove(key, out int record))
            {
                DropDescriptor(reactor, log, key, fd, "no registration in the state image has it");
                continue;
            }
            if (reactor.AdoptRegistration(fd, record, key)) Adopted++;
            else Dropped++;
        }
        // A registration whose socket never reached the store (a crash between the two) or was lost.
        foreach (int record in byKey.Values)
        {
            service.DropRestored(record, "no descriptor was passed for it");
            Dropped++;
        }
    }

    private static void DropDescriptor(EpmdReactor reactor, Log log, ulong key, int fd, string why)
    {
        if (log.On(0)) log.Write(0, $"stored descriptor {fd} ({StoreNames.Alive(key)}) closed: {why}");
        SocketIo.Close(fd);
        reactor.DescriptorStore?.Remove(key);
    }

    /// <summary>
    /// A running loop's state for a handoff, on the loop thread: the image, each registration's
    /// socket as (key, fd), and the listeners. The descriptors stay open and owned by the
    /// loop; after a handoff, stop it with KeepRegistrationsAtStop so that no node sees a close.
    /// </summary>
    public static ExportedState Export(EpmdReactor reactor, EpmdService service)
    {
        var image = new byte[StateImage.Measure(service.Registry)];
        StateImage.Encode(service.Registry, image);
        return new ExportedState(image, reactor.RegistrationDescriptors(), reactor.ListenerDescriptors());
    }
}

/// <summary>What Export gives a handoff: the image bytes, the ALIVE sockets by key, the listeners by kind.</summary>
internal sealed record ExportedState(byte[] Image, List<(ulong Key, int Fd)> Alive, List<(int Fd, ListenerKind Kind)> Listeners);
