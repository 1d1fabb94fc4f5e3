// Where a registration's ALIVE socket is kept while the daemon is not running (systemd's file
// descriptor store). The reactor hands it descriptors and keys; it never decides anything.
namespace FastEpmd.Endpoints.Epmd;

internal interface IDescriptorStore
{
    /// <summary>Keeps a copy of fd under the registration's key ("alive-{key}"). Must not allocate.</summary>
    void Store(ulong key, int fd);

    /// <summary>Drops the copy kept under key (the registration ended). Must not allocate.</summary>
    void Remove(ulong key);
}
