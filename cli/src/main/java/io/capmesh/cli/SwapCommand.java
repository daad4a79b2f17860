package io.capmesh.cli;

import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.grpc.ChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "swap", sortOptions = false,
        header = "Replace a loaded extension with a new version.",
        description = {"Replace a loaded extension with a new version of it:"
        + " the runtime builds and warms the new one, switches in one step (calls in flight finish on the old one)"
        + " and unloads the old one, reporting whether its classloader was collected.",
        "Without --runtime every runtime that has the extension loaded swaps it."})
final class SwapCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Mixin
    private PackageArgument pkg;

    @Option(names = "--runtime", paramLabel = "TIER|HOST:PORT",
            description = "Where to swap: every runtime of a tier or one runtime's address.")
    private String runtime;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "How long each runtime may take, draining and verifying the old version included"
                    + " (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Override
    public Integer call() {
        ExtensionJar extension = pkg.read();
        BrokerAddress broker = target.broker();
        ChannelCredentials credentials = target.credentials();
        List<Runtimes.Target> targets;
        if (runtime != null) {
            targets = Runtimes.named(runtime, broker, credentials);
        } else {
            ExtensionJar.Manifest manifest = extension.manifest().orElseThrow(() -> CliFailure.usage(extension.path()
                    + " has no readable " + ExtensionJar.MANIFEST + ", so which runtimes to swap it on is unknown:"
                    + " pass --runtime"));
            targets = Runtimes.withLoaded(manifest.id(), Optional.empty(), broker, credentials);
        }
        List<Map<String, Object>> json = new ArrayList<>();
        Map<String, String> offers = new LinkedHashMap<>();
        Table table = Table.of("runtime", "extension", "now", "was", "old loader", "swap");
        boolean leaked = false;
        List<String> cleaned = new ArrayList<>();
        for (Runtimes.Target runtime : targets) {
            SwapResponse swapped;
            try (Remote remote = Remote.runtime(runtime.address(), credentials)) {
                var stub = RuntimeServiceGrpc.newStub(remote.channel()).withDeadlineAfter(timeout.toMillis(),
                        TimeUnit.MILLISECONDS);
                swapped = Upload.swap(stub, extension, timeout);
            } catch (StatusRuntimeException e) {
                throw DeployCommand.refused("swap", extension, runtime, e);
            }
            ExtensionInfo now = swapped.getCurrent();
            now.getManifest().getCapabilitiesList().forEach(c -> offers.put(c.getName(), c.getVersion()));
            table.row(runtime.name(), now.getManifest().getId(), now.getManifest().getVersion(),
                    swapped.getPrevious().getVersion(), UnloadCommand.reclamation(swapped.getPrevious()),
                    Durations.brief(Duration.ofNanos(swapped.getSwapMicros() * 1000)));
            json.add(DeployCommand.entry(runtime, Json.of(swapped)));
            leaked |= swapped.getPrevious().getReclamation().getState() == Reclamation.State.LEAKED;
            swapped.getPrevious().getReclamation().getCleanedList()
                    .forEach(done -> cleaned.add(runtime.name() + ": " + done));
        }
        DeployCommand.awaitBroker(output, broker, credentials, targets, offers);
        if (output.json()) {
            output.json(json);
        } else {
            output.table(table);
            UnloadCommand.printCleaned(output, cleaned);
            if (leaked) {
                output.say(UnloadCommand.LEAK_NOTE);
            }
        }
        return leaked ? ExitCode.LEAKED : ExitCode.OK;
    }
}
