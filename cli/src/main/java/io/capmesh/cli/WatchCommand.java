package io.capmesh.cli;

import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.WatchEvent;
import io.capmesh.proto.v1.WatchRequest;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "watch", sortOptions = false,
        header = "Stream the broker's catalog and health changes.",
        description = {"Stream the broker's catalog and health changes as they"
        + " happen, until Ctrl-C, --count events or --for a while.",
        "With --json, one JSON object per line."})
final class WatchCommand implements Callable<Integer> {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");
    /** How long a stream must have run for its end to be resumed rather than reported. */
    private static final Duration RESUME_AFTER = Duration.ofSeconds(5);

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Option(names = "--prefix", paramLabel = "PREFIX", defaultValue = "",
            description = "Only capabilities whose names start with this (runtime health changes always show).")
    private String prefix;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N events.")
    private Integer count;

    @Option(names = "--for", paramLabel = "DURATION", converter = Durations.class,
            description = "Stop after this long.")
    private Duration duration;

    @Override
    public Integer call() {
        if (count != null && count < 1) {
            throw CliFailure.usage("--count must be at least 1, got " + count);
        }
        BrokerAddress broker = target.broker();
        int seen = 0;
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "capmesh-watch-timer");
            thread.setDaemon(true);
            return thread;
        });
        try (Remote remote = Remote.broker(broker, target.credentials());
             Context.CancellableContext watching = Context.current().withCancellation()) {
            if (duration != null) {
                timer.schedule(() -> watching.cancel(null), duration.toMillis(), TimeUnit.MILLISECONDS);
            }
            Context previous = watching.attach();
            try {
                if (!broker.accepts()) {
                    throw CliFailure.unreachable(Remote.unreachable("broker", broker));
                }
                output.note("watching " + broker + (prefix.isEmpty() ? "" : " for " + prefix + "*")
                        + (count != null ? " until " + count + " events" : "")
                        + (duration != null ? " for " + Durations.brief(duration) : "") + " (Ctrl-C stops)");
                while (true) {
                    long opened = System.nanoTime();
                    try {
                        Iterator<WatchEvent> events = CapabilityBrokerGrpc.newBlockingStub(remote.channel())
                                .watch(WatchRequest.newBuilder().setNamePrefix(prefix).build());
                        while ((count == null || seen < count) && events.hasNext()) {
                            print(events.next());
                            seen++;
                        }
                        break;
                    } catch (StatusRuntimeException e) {
                        // a broker replica closes its connections after a while, or goes: a stream that ran
                        // for a while is opened again (on any replica); one that fails at once is an error
                        if (e.getStatus().getCode() != Status.Code.UNAVAILABLE
                                || System.nanoTime() - opened < RESUME_AFTER.toNanos()) {
                            throw e;
                        }
                        output.note("the stream ended (" + Remote.describe(e.getStatus()) + "); watching again");
                    }
                }
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.CANCELLED || !watching.isCancelled()) {
                    throw Remote.failure("broker", broker, e.getStatus(), "watch ended");
                }
            } finally {
                watching.detach(previous);
            }
        } finally {
            timer.shutdownNow();
        }
        return ExitCode.OK;
    }

    private void print(WatchEvent event) {
        if (output.json()) {
            output.jsonLine(Json.of(event));
            return;
        }
        String at = LocalTime.ofInstant(Instant.ofEpochSecond(event.getAt().getSeconds(), event.getAt().getNanos()),
                ZoneId.systemDefault()).format(TIME);
        String line = switch (event.getChangeCase()) {
            case CAPABILITY_ADDED -> "added    " + describe(event.getCapabilityAdded());
            case CAPABILITY_REMOVED -> "removed  " + event.getCapabilityRemoved().getName();
            case RUNTIME_HEALTH -> "runtime  " + describe(event.getRuntimeHealth());
            default -> "unknown  " + event.getChangeCase();
        };
        output.out().println(at + "  " + line);
        output.out().flush();
    }

    private static String describe(CatalogEntry entry) {
        return entry.getName() + " " + String.join(", ", entry.getVersionsList()) + " at "
                + entry.getReplicasList().stream().map(e -> HostPort.of(e).toString())
                        .collect(Collectors.joining(", "));
    }

    private static String describe(RuntimeHealth runtime) {
        return runtime.getRuntimeId() + " (" + runtime.getRuntimeTier() + ") at " + HostPort.of(runtime.getEndpoint())
                + " is " + runtime.getState();
    }
}
