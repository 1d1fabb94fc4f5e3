// Where a copy of the registry is kept current (the state image that outlives the process): the
// service hands it each record it changed. Defined here so the service does not know the image.
using FastEpmd.Registry;

namespace FastEpmd.Service;

internal interface IRegistryMirror
{
    /// <summary>Rewrites the record's copy; false when the record is beyond the copy's room. Must not allocate.</summary>
    bool Write(NodeRegistry registry, int record);
}
