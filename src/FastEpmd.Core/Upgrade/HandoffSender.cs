// The old daemon's side of the handoff: offer the state, send the image and every descriptor in
// batches, and learn whether the new process took it. Any failure leaves everything as it was:
// the caller still owns every descriptor it listed and simply serves on.
using FastEpmd.Interop;

namespace FastEpmd.Upgrade;

/// <summary>A descriptor to hand over: what it is, its key (registrations), and our fd.</summary>
internal readonly record struct HandedDescriptor(DescriptorRole Role, ulong Key, int Fd);

internal static class HandoffSender
{
    /// <summary>True when the new process accepted: the state and descriptors are its now.</summary>
    public static bool Run(HandoffChannel channel, in HandoffHello hello, ushort format, ReadOnlySpan<byte> image,
        IReadOnlyList<HandedDescriptor> descriptors)
    {
        if (hello.Protocol != HandoffWire.Protocol)
        {
            channel.SendRefuse($"this daemon speaks handoff protocol {HandoffWire.Protocol}, not {hello.Protocol}");
            return channel.Fail($"the new process speaks handoff protocol {hello.Protocol}");
        }
        if (hello.DescriptorRoom < descriptors.Count)
        {
            channel.SendRefuse($"{descriptors.Count} descriptors to hand over, room for {hello.DescriptorRoom}");
            return channel.Fail($"the new process has room for {hello.DescriptorRoom} descriptors, not {descriptors.Count} (ulimit -n)");
        }

        Span<byte> record = stackalloc byte[HandoffWire.MaxMessage];
        var offer = new HandoffOffer(HandoffWire.Protocol, format, (uint)image.Length, (uint)descriptors.Count, Environment.ProcessId);
        if (!channel.Send(record[..HandoffWire.WriteOffer(record, in offer)])) return false;
        if (!channel.Expect(HandoffType.Go, out _)) return false;

        var chunk = new byte[HandoffWire.HeaderLength + HandoffWire.MaxChunk];
        HandoffWire.WriteHeader(chunk, HandoffType.Image);
        for (int sent = 0; sent < image.Length;)
        {
            int n = Math.Min(HandoffWire.MaxChunk, image.Length - sent);
            image.Slice(sent, n).CopyTo(chunk.AsSpan(HandoffWire.HeaderLength));
            if (!channel.Send(chunk.AsSpan(0, HandoffWire.HeaderLength + n))) return false;
            sent += n;
        }

        Span<int> fds = stackalloc int[HandoffWire.MaxBatch];
        for (int first = 0; first < descriptors.Count; first += HandoffWire.MaxBatch)
        {
            int count = Math.Min(HandoffWire.MaxBatch, descriptors.Count - first);
            int length = HandoffWire.WriteBatchHeader(record, count);
            for (int i = 0; i < count; i++)
            {
                var d = descriptors[first + i];
                length += HandoffWire.WriteEntry(record[length..], d.Role, d.Key);
                fds[i] = d.Fd;
            }
            if (!channel.Send(record[..length], fds[..count])) return false;
        }
        if (!channel.SendType(HandoffType.End)) return false;
        return channel.Expect(HandoffType.Accept, out _);
    }

    /// <summary>The format to write: the newest this daemon writes that the new process reads, else our newest.</summary>
    public static ushort ChooseFormat(ReadOnlySpan<ushort> writable, ReadOnlySpan<ushort> readable)
    {
        ushort best = 0;
        bool found = false;
        foreach (ushort w in writable)
        {
            if (readable.Contains(w) && (!found || w > best))
            {
                best = w;
                found = true;
            }
        }
        if (found) return best;
        foreach (ushort w in writable) best = Math.Max(best, w);
        return best;
    }
}
