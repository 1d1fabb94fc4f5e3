// systemd's file descriptor store as the place registrations outlive the process: each ALIVE socket
// goes to NOTIFY_SOCKET with FDSTORE=1 and FDNAME=alive-{key} (SCM_RIGHTS), and leaves with
// FDSTOREREMOVE=1; the state memfd is stored as FDNAME=state. In use only under -systemd with
// NOTIFY_SOCKET and FDSTORE=N set (systemd 254 and later set FDSTORE to FileDescriptorStoreMax=;
// our unit sets it for older ones), since the store cannot be probed: a store of size 0 just drops
// what it is sent. Messages are built in a fixed buffer: storing allocates nothing.
using FastEpmd.Diagnostics;
using FastEpmd.Interop;
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Service;
using FastEpmd.Restart;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace FastEpmd.Daemon;

internal sealed unsafe class SystemdStore : IDescriptorStore, IDisposable
{
    private readonly int _socket;
    private readonly sockaddr_un _address;
    private readonly int _addressLength;
    private readonly byte[] _message = new byte[64];
    private readonly Log _log;
    private long _failures;

    private SystemdStore(int socket, sockaddr_un address, int addressLength, int capacity, Log log)
    {
        _socket = socket;
        _address = address;
        _addressLength = addressLength;
        Capacity = capacity;
        _log = log;
    }

    /// <summary>FDSTORE's value: how many descriptors systemd keeps for us (state memfd included).</summary>
    public int Capacity { get; }

    /// <summary>Descriptors this process has stored and not removed (alive sockets only).</summary>
    public int StoredAlive { get; private set; }

    /// <summary>Sockets a restart adopted: they are in the store already.</summary>
    public void CountAdopted(int count) => StoredAlive += count;

    /// <summary>The store when it is in use here, else null (and nothing of this feature runs).</summary>
    public static SystemdStore? Open(EpmdOptions options, Log log)
    {
        if (!options.Systemd) return null;
        if (!int.TryParse(Environment.GetEnvironmentVariable("FDSTORE"), out int capacity) || capacity <= 0) return null;
        if (!SystemdActivation.TryNotifyAddress(out var address, out int length)) return null;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
        {
            if (log.On(0)) log.Write(0, "descriptor store: cannot open a socket to NOTIFY_SOCKET: " + Errno.Describe(Errno.Last));
            return null;
        }
        return new SystemdStore(fd, address, length, capacity, log);
    }

    public void Store(ulong key, int fd)
    {
        // One slot of the store is the state memfd's.
        if (StoredAlive >= Capacity - 1)
        {
            Failed("store full (FileDescriptorStoreMax=" + Capacity + "): a restart will drop alive-", key);
            return;
        }
        int n = Write("FDSTORE=1\nFDNAME="u8, key);
        if (Send(n, fd)) StoredAlive++;
        else Failed("FDSTORE failed for alive-", key);
    }

    public void Remove(ulong key)
    {
        int n = Write("FDSTOREREMOVE=1\nFDNAME="u8, key);
        if (Send(n, -1)) StoredAlive = Math.Max(0, StoredAlive - 1);
        else Failed("FDSTOREREMOVE failed for alive-", key);
    }

    /// <summary>Stores the state memfd as "state"; false when systemd could not be told.</summary>
    public bool StoreState(int memfd) => SendText("FDSTORE=1\nFDNAME=" + StoreNames.State, memfd);

    public bool RemoveState() => SendText("FDSTOREREMOVE=1\nFDNAME=" + StoreNames.State, -1);

    /// <summary>Removes a stored descriptor by its name (one that matches no registration).</summary>
    public bool RemoveName(string name) => SendText("FDSTOREREMOVE=1\nFDNAME=" + name, -1);

    private int Write(ReadOnlySpan<byte> prefix, ulong key)
    {
        prefix.CopyTo(_message);
        return prefix.Length + StoreNames.WriteAlive(_message.AsSpan(prefix.Length), key);
    }

    private bool SendText(string text, int fd)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        if (bytes.Length > _message.Length) return false;
        bytes.CopyTo(_message, 0);
        return Send(bytes.Length, fd);
    }

    private bool Send(int length, int fd)
    {
        sockaddr_un address = _address;
        int* fds = stackalloc int[1];
        fds[0] = fd;
        fixed (byte* data = _message)
        {
            return Shim.FdSend(_socket, data, length, fds, fd >= 0 ? 1 : 0, &address, _addressLength) == length;
        }
    }

    private void Failed(string what, ulong key)
    {
        // One line per burst of failures: a flood of registrations into a full store must not flood the log.
        if (_failures++ % 1000 == 0 && _log.On(0)) _log.Write(0, "descriptor store: " + what + key + " (" + _failures + " failures so far)");
    }

    public void Dispose() => close(_socket);
}
