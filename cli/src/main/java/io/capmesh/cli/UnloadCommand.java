package io.capmesh.cli;

import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.grpc.ChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "unload", sortOptions = false,
        header = "Unload an extension and verify its loader was collected.",
        description = {"Unload an extension: the runtime unpublishes it,"
        + " drains calls in flight, closes it and its classloader, and reports whether the loader was collected"
        + " (COLLECTED) or is still reachable (LEAKED, with the likely causes).",
        "Without --runtime every runtime that has the extension loaded unloads it."})
final class UnloadCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Parameters(index = "0", paramLabel = "ID", description = "The extension's id, e.g. legacy-guava.")
    private String id;

    @Option(names = "--version", paramLabel = "VERSION", description = "Only this version (default: the loaded one).")
    private String version;

    @Option(names = "--runtime", paramLabel = "TIER|HOST:PORT",
            description = "Where to unload: every runtime of a tier or one runtime's address.")
    private String runtime;

    @Option(names = "--drain-timeout", paramLabel = "DURATION", converter = Durations.class,
            description = "How long to wait for calls in flight (default: the runtime's).")
    private Duration drainTimeout;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "How long each runtime may take (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Option(names = "--leak-path-wait", paramLabel = "DURATION", defaultValue = "30s",
            converter = Durations.OrZero.class,
            description = {"On a leak, how much longer to wait for the reference path that holds the loader, when "
                    + "the runtime looks for it in a heap dump (capmesh.runtime.leak-paths) (default: "
                    + "${DEFAULT-VALUE}; 0s answers at the verdict)."})
    private Duration leakPathWait;

    @Override
    public Integer call() {
        BrokerAddress broker = target.broker();
        ChannelCredentials credentials = target.credentials();
        List<Runtimes.Target> targets = runtime != null ? Runtimes.named(runtime, broker, credentials)
                : Runtimes.withLoaded(id, Optional.ofNullable(version), broker, credentials);
        UnloadRequest request = UnloadRequest.newBuilder().setExtensionId(id)
                .setVersion(version == null ? "" : version)
                .setDrainTimeoutMillis(drainTimeout == null ? 0 : drainTimeout.toMillis())
                .setLeakPathWaitMillis(leakPathWait.toMillis()).build();
        List<Map<String, Object>> json = new ArrayList<>();
        Table table = Table.of("runtime", "extension", "version", "loader");
        boolean leaked = false;
        List<String> paths = new ArrayList<>();
        List<String> cleaned = new ArrayList<>();
        for (Runtimes.Target runtime : targets) {
            UnloadResponse unloaded;
            try (Remote remote = Remote.runtime(runtime.address(), credentials)) {
                unloaded = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                        .withDeadlineAfter(timeout.plus(leakPathWait).toMillis(), TimeUnit.MILLISECONDS)
                        .unload(request);
            } catch (StatusRuntimeException e) {
                throw Remote.failure("runtime", runtime.address(), e.getStatus(), "unload of " + id + " at "
                        + runtime.name() + " refused");
            }
            leaked |= unloaded.getReclamation().getState() == Reclamation.State.LEAKED;
            table.row(runtime.name(), unloaded.getExtensionId(), unloaded.getVersion(), reclamation(unloaded));
            unloaded.getReclamation().getCleanedList().forEach(done -> cleaned.add(runtime.name() + ": " + done));
            if (unloaded.getReclamation().hasLeakPath()) {
                paths.add("What holds " + unloaded.getExtensionId() + "@" + unloaded.getVersion() + " at "
                        + runtime.name() + ":\n" + leakPath(unloaded.getReclamation().getLeakPath()));
            }
            json.add(DeployCommand.entry(runtime, Json.of(unloaded)));
        }
        if (output.json()) {
            output.json(json);
        } else {
            output.table(table);
            printCleaned(output, cleaned);
            paths.forEach(output::say);
            if (leaked) {
                output.say(LEAK_NOTE);
            }
        }
        return leaked ? ExitCode.LEAKED : ExitCode.OK;
    }

    static final String LEAK_NOTE = "A leaked loader stays in memory while something holds it: the causes and the "
            + "leak path name what. If that lets go, the runtime still collects it: capmesh runtime describe ID "
            + "--runtime ... then says COLLECTED, with the time.";

    /** What the runtimes removed on the extension's behalf, one line each. */
    static void printCleaned(Output output, List<String> cleaned) {
        if (!cleaned.isEmpty()) {
            output.say("Cleaned up on the extension's behalf:");
            cleaned.forEach(done -> output.say("  " + done));
        }
    }

    /** The reference path as an indented chain, from the GC root down to the loader. */
    static String leakPath(io.capmesh.proto.v1.LeakPath path) {
        StringBuilder out = new StringBuilder("  ┬───\n  │ GC root: ").append(path.getGcRoot()).append("\n  │");
        for (var step : path.getStepsList()) {
            out.append("\n  ├─ ").append(step.getObject()).append("\n  │    ↓ ").append(step.getReference());
        }
        return out.append("\n  ╰→ the extension's classloader").toString();
    }

    /** {@code COLLECTED in 45 ms}, or {@code LEAKED after 2000 ms: <causes>}. */
    static String reclamation(UnloadResponse unloaded) {
        Reclamation reclamation = unloaded.getReclamation();
        return switch (reclamation.getState()) {
            case COLLECTED -> reclamation.hasCollectedAt()
                    ? "COLLECTED at " + java.time.Instant.ofEpochSecond(reclamation.getCollectedAt().getSeconds())
                    + ", after it was LEAKED at " + reclamation.getElapsedMillis() + " ms: "
                    + String.join("; ", reclamation.getCausesList())
                    : "COLLECTED in " + reclamation.getElapsedMillis() + " ms";
            case LEAKED -> "LEAKED after " + reclamation.getElapsedMillis() + " ms: "
                    + String.join("; ", reclamation.getCausesList())
                    + (reclamation.hasLeakPath() || reclamation.getLeakPathNote().isEmpty() ? ""
                    : " (leak path: " + reclamation.getLeakPathNote() + ")");
            case PENDING -> "PENDING (still being verified)";
            default -> reclamation.getState().toString();
        };
    }
}
