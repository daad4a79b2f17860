package io.capmesh.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** Where each target of DESIGN.md stands in this run, next to the seed's (.NET / capnweb) figure. */
final class Targets {

    /** A DESIGN.md target row. */
    enum Goal {
        BOUNDARY("direct call across the extension boundary", "< 1 us", "< 0.1 us"),
        HOP("one gRPC hop, stub to runtime, loopback", "50-100 us p50, 200 us p99",
                "p50 <= 1.25x, p99 <= 1.5x raw grpc-java unary (epoll, direct executor)"),
        COMPOSITION("composition across 3 runtimes", "100-300 us p50", "<= 3.3x one hop; 0 broker hops per call"),
        LOAD("load small extension (<100 KB) + first call", "5 ms p50, 15 ms p99", "<= 3 ms p50, <= 10 ms p99"),
        SWAP("full swap (build new + switch)", "50 ms p50, 200 ms p99", "<= 10 ms p50, <= 50 ms p99"),
        UNLOAD("unload until loader collected", "10 ms p50, 100 ms p99",
                "<= 100 ms p50, <= 500 ms p99, no stop-the-world full GC"),
        SWAP_UNDER_LOAD("swap under 1000 concurrent calls", "0.5 % failed",
                "0 failed, each call served wholly by one version"),
        RECLAIM("reclaim: plain / timers / static state / finalizers / active tasks", "100 / 90 / 80 / 95 / 70 %",
                "100 % each, or a named leak report within 2 s"),
        LEAK_PATH("unload to the leak's named reference path, 100 small extensions loaded", "-", "<= 5 s"),
        HEAP("heap per loaded small extension", "~0.8 MB (100 loaded: 85 MB)", "<= 0.5 MB"),
        START("runtime start to SERVING", "450-950 ms", "<= 1 s (as shipped: prepared, with its start cache)"),
        ACQUIRE_REPLICAS("warm acquire through one of three brokers on PostgreSQL", "-",
                "<= 2x the single embedded broker, p50"),
        REGISTRATION("runtime registered to acquirable through every broker", "-",
                "<= one heartbeat interval + 100 ms"),
        SOURCE_FIRST("first compile + load + first call of a 50-line function, warm runtime", "2-3 s (Roslyn)",
                "<= 300 ms p50"),
        SOURCE_CACHED("the same sources again, from the cache", "30-40 ms", "<= 5 ms p50"),
        SOURCE_EDIT("edit to new answer in capmesh dev, a source function", "-", "<= 1 s p50");

        final String what;
        final String seed;
        final String target;

        Goal(String what, String seed, String target) {
            this.what = what;
            this.seed = seed;
            this.target = target;
        }
    }

    private record Standing(String measured, Boolean met) {
    }

    private final Map<Goal, Standing> standings = new LinkedHashMap<>();

    /** @param met whether the target is met, or null when this run cannot tell */
    synchronized void measured(Goal goal, String measured, Boolean met) {
        standings.put(goal, new Standing(measured, met));
    }

    synchronized Table table(CallPaths paths) {
        Table table = new Table("Targets of DESIGN.md",
                "The seed's figures are those DESIGN.md quotes for the .NET / capnweb design; ours are from this run.",
                "what", "seed (.NET / capnweb)", "capmesh target", "this run", "standing");
        for (Goal goal : Goal.values()) {
            Standing standing = standings.get(goal);
            table.row(goal.what, goal.seed, goal.target, standing == null ? "not measured" : standing.measured(),
                    standing == null || standing.met() == null ? "-" : standing.met() ? "met" : "not met");
        }
        return table;
    }
}
