// What /metrics says: every family, its help and its samples, from the counters the loop keeps.
// Names follow Prometheus conventions: the fastepmd_ prefix, _total on counters, base units, and
// labels with a handful of fixed values.
using FastEpmd.Endpoints.Epmd;
using FastEpmd.Loop;
using FastEpmd.Service;

namespace FastEpmd.Endpoints.Metrics;

/// <summary>Everything a scrape reports, as the loop sees it at that moment.</summary>
internal readonly ref struct MetricsView
{
    public required EpmdCounters Reactor { get; init; }
    public LoopCounters Loop { get; init; }
    public required MetricsCounters Http { get; init; }
    public required ServiceCounters Service { get; init; }
    public required AccessRefusals Refusals { get; init; }
    public required int Registrations { get; init; }
    public required int Connections { get; init; }
    public required int TableSlots { get; init; }
    public required long ReplyMemoryBytes { get; init; }
    public required long ReplyMemoryBudgetBytes { get; init; }
    public required int MetricsConnections { get; init; }
    public required ReadOnlySpan<byte> Version { get; init; }
    public required long StartUnixMs { get; init; }
}

internal static class MetricsExposition
{
    private static ReadOnlySpan<byte> Counter => "counter"u8;
    private static ReadOnlySpan<byte> Gauge => "gauge"u8;

    public static void Write(ref PrometheusWriter w, in MetricsView v)
    {
        var requests = "fastepmd_requests_total"u8;
        w.Family(requests, Counter, "Complete epmd requests by type and outcome (ok: answered, refused: a refusal reply, closed: closed without a reply)."u8);
        for (var type = RequestType.Alive; type <= RequestType.Unknown; type++)
        {
            for (var outcome = RequestOutcome.Ok; outcome <= RequestOutcome.Closed; outcome++)
                w.Sample(requests, "type"u8, TypeName(type), "outcome"u8, OutcomeName(outcome), v.Service.Requests(type, outcome));
        }

        w.Single("fastepmd_registrations"u8, Gauge, "Nodes registered now."u8, v.Registrations);
        w.Single("fastepmd_registrations_total"u8, Counter, "ALIVE2 requests that registered a node."u8, v.Service.Registrations);
        w.Single("fastepmd_duplicate_refusals_total"u8, Counter, "ALIVE2 refused because a live node holds the name."u8, v.Service.DuplicateRefusals);
        w.Single("fastepmd_restart_race_reclaims_total"u8, Counter, "Names taken over from an owner whose socket was already closed (a node restarting faster than its old FIN)."u8, v.Reactor.DeadOwnersDropped);

        w.Single("fastepmd_connections"u8, Gauge, "epmd connections open now (registrations included)."u8, v.Connections);
        w.Single("fastepmd_connection_table_slots"u8, Gauge, "Size of the fixed epmd connection table."u8, v.TableSlots);
        w.Single("fastepmd_connections_accepted_total"u8, Counter, "epmd connections accepted and given a slot."u8, v.Reactor.Accepted);
        var evicted = "fastepmd_connections_evicted_total"u8;
        w.Family(evicted, Counter, "epmd connections closed by the daemon's own policy, by reason."u8);
        w.Sample(evicted, "reason"u8, "table_full"u8, v.Reactor.DroppedForFullTable);
        w.Sample(evicted, "reason"u8, "no_descriptors"u8, v.Loop.DroppedForNoDescriptors);
        w.Sample(evicted, "reason"u8, "idle_timeout"u8, v.Reactor.Timeouts);
        w.Sample(evicted, "reason"u8, "request_deadline"u8, v.Reactor.RequestDeadlines);
        var timeouts = "fastepmd_timeouts_total"u8;
        w.Family(timeouts, Counter, "epmd connections timed out, by kind (idle: the packet timeout; request: the whole-request deadline)."u8);
        w.Sample(timeouts, "kind"u8, "idle"u8, v.Reactor.Timeouts);
        w.Sample(timeouts, "kind"u8, "request"u8, v.Reactor.RequestDeadlines);
        w.Single("fastepmd_descriptor_limit_events_total"u8, Counter, "Connections shed at accept because the process was out of descriptors (EMFILE/ENFILE)."u8, v.Loop.DroppedForNoDescriptors);
        w.Single("fastepmd_slow_readers_closed_total"u8, Counter, "Connections closed by the request deadline while their reply was still unread."u8, v.Reactor.SlowReadersClosed);
        w.Single("fastepmd_reply_memory_bytes"u8, Gauge, "Native memory mapped for NAMES/DUMP replies (current ones and those still being sent)."u8, v.ReplyMemoryBytes);
        w.Single("fastepmd_reply_memory_budget_bytes"u8, Gauge, "The reply memory budget (-reply_memory_mb)."u8, v.ReplyMemoryBudgetBytes);
        // Registrations live in native memory: this stays flat as nodes come and go (GetTotalMemory
        // without a collection allocates nothing).
        w.Single("fastepmd_managed_heap_bytes"u8, Gauge, "Bytes in use on the managed (GC) heap, without forcing a collection."u8, GC.GetTotalMemory(false));
        w.Single("fastepmd_reply_readers_shed_total"u8, Counter, "NAMES/DUMP readers closed because their old reply held memory a new one needed."u8, v.Reactor.SnapshotReadersShed);

        var refusals = "fastepmd_access_refusals_total"u8;
        w.Family(refusals, Counter, "Connections refused by the access rules beyond OTP (-allow, -max_per_peer, -names local)."u8);
        w.Sample(refusals, "reason"u8, "not_allowed"u8, v.Refusals.NotAllowed);
        w.Sample(refusals, "reason"u8, "over_peer_cap"u8, v.Refusals.OverPeerCap);
        w.Sample(refusals, "reason"u8, "names_not_local"u8, v.Refusals.NamesNotLocal);

        w.Single("fastepmd_received_bytes_total"u8, Counter, "Bytes read from epmd connections."u8, v.Reactor.BytesReceived);
        w.Single("fastepmd_sent_bytes_total"u8, Counter, "Bytes written to epmd connections."u8, v.Reactor.BytesSent);

        var http = "fastepmd_metrics_responses_total"u8;
        w.Family(http, Counter, "Responses of the metrics listener, by status code."u8);
        w.Sample(http, "code"u8, "200"u8, v.Http.Scrapes + v.Http.HealthOk);
        w.Sample(http, "code"u8, "400"u8, v.Http.BadRequests);
        w.Sample(http, "code"u8, "404"u8, v.Http.NotFound);
        w.Sample(http, "code"u8, "503"u8, v.Http.HealthUnavailable);
        var dropped = "fastepmd_metrics_connections_closed_total"u8;
        w.Family(dropped, Counter, "Metrics connections closed without a response, by reason."u8);
        w.Sample(dropped, "reason"u8, "header_too_large"u8, v.Http.TooLarge);
        w.Sample(dropped, "reason"u8, "deadline"u8, v.Http.Deadlines);
        w.Sample(dropped, "reason"u8, "table_full"u8, v.Http.DroppedForFullTable);
        w.Single("fastepmd_metrics_connections"u8, Gauge, "Metrics connections open now."u8, v.MetricsConnections);

        w.Family("fastepmd_build_info"u8, Gauge, "Always 1; the version is the label."u8);
        w.Sample("fastepmd_build_info"u8, "version"u8, v.Version, 1);
        w.Family("process_start_time_seconds"u8, Gauge, "Start time of the process since the Unix epoch in seconds."u8);
        w.SampleMilliseconds("process_start_time_seconds"u8, v.StartUnixMs);
    }

    private static ReadOnlySpan<byte> TypeName(RequestType type) => type switch
    {
        RequestType.Alive => "alive2"u8,
        RequestType.PortPlease => "port_please2"u8,
        RequestType.Names => "names"u8,
        RequestType.Dump => "dump"u8,
        RequestType.Kill => "kill"u8,
        RequestType.Stop => "stop"u8,
        _ => "unknown"u8,
    };

    private static ReadOnlySpan<byte> OutcomeName(RequestOutcome outcome) => outcome switch
    {
        RequestOutcome.Ok => "ok"u8,
        RequestOutcome.Refused => "refused"u8,
        _ => "closed"u8,
    };
}
