// The metrics responder's own counters, plain fields as the loop's.
namespace FastEpmd.Endpoints.Metrics;

internal struct MetricsCounters
{
    /// <summary>Responses by status: 200 /metrics, 200 /healthz, 503 /healthz, 404, 400.</summary>
    public long Scrapes;
    public long HealthOk;
    public long HealthUnavailable;
    public long NotFound;
    public long BadRequests;

    /// <summary>Closed without a response: headers over the limit, peer gone, deadline, full table.</summary>
    public long TooLarge;
    public long Deadlines;
    public long DroppedForFullTable;
}
