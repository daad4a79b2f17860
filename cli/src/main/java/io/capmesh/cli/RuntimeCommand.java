package io.capmesh.cli;

import io.capmesh.proto.v1.AvailableExtension;
import io.capmesh.proto.v1.BlockedExit;
import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.DescribeResponse;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ListExtensionsResponse;
import io.capmesh.proto.v1.QuarantinedExtension;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.UnloadResponse;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What a runtime holds, asked of the runtime itself: its extensions, and each one's past verdicts. */
@Command(name = "runtime", header = "Show what a runtime holds and what became of what it unloaded.",
        description = "Ask runtimes directly what they hold: `list` their extensions, loaded and available, and"
                + " `describe` one extension with the verdicts of its unloaded versions (leak causes and paths).",
        subcommands = {RuntimeCommand.ListExtensions.class, RuntimeCommand.Describe.class})
final class RuntimeCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw CliFailure.usage("name what to do: capmesh runtime list --runtime TIER|HOST:PORT, or capmesh runtime "
                + "describe ID --runtime TIER|HOST:PORT");
    }

    /** {@code --runtime} and how to reach what it names: found through the broker only when it names a tier. */
    static final class RuntimeTarget {

        @Mixin
        BrokerTarget target;

        @Option(names = "--runtime", required = true, paramLabel = "TIER|HOST:PORT",
                description = "One runtime's address, or every registered runtime of a tier.")
        String runtime;

        List<Runtimes.Target> targets() {
            return Runtimes.named(runtime, Runtimes.isAddress(runtime) ? null : target.broker(), target.credentials());
        }

        io.grpc.ChannelCredentials credentials() {
            return target.credentials();
        }

        /** What one of the runtimes named holds: loaded, available, quarantined. */
        ListExtensionsResponse listExtensions(Runtimes.Target runtime) {
            try (Remote remote = Remote.runtime(runtime.address(), credentials())) {
                return RuntimeServiceGrpc.newBlockingStub(remote.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .listExtensions(ListExtensionsRequest.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                throw Remote.failure("runtime", runtime.address(), e.getStatus(), "listing " + runtime.name());
            }
        }
    }

    @Command(name = "list", header = "List the extensions of runtimes.",
            description = "List the extensions each runtime has loaded (with their calls and failures), those it"
                    + " can load on demand, and those it keeps quarantined. A HOST:PORT needs no broker.")
    static final class ListExtensions implements Callable<Integer> {

        @Mixin
        private RuntimeTarget target;

        @Mixin
        private Output output;

        @Override
        public Integer call() {
            List<Map<String, Object>> json = new ArrayList<>();
            Table table = Table.of("runtime", "extension", "version", "state", "calls", "failures", "capabilities");
            for (Runtimes.Target runtime : target.targets()) {
                ListExtensionsResponse held = target.listExtensions(runtime);
                json.add(DeployCommand.entry(runtime, Json.of(held)));
                for (ExtensionInfo ext : held.getExtensionsList()) {
                    table.row(runtime.name(), ext.getManifest().getId(), ext.getManifest().getVersion(),
                            ext.getHibernated() ? "hibernated" : ext.hasChildProcess() ? "loaded (child JVM)"
                                    : "loaded", ext.getInvocations(), ext.getFailures(), capabilities(ext));
                }
                for (AvailableExtension ext : held.getAvailableList()) {
                    table.row(runtime.name(), ext.getManifest().getId(), ext.getManifest().getVersion(),
                            "available", "-", "-", String.join(", ", ext.getManifest().getCapabilitiesList().stream()
                                    .map(c -> c.getName()).toList()));
                }
                for (QuarantinedExtension ext : held.getQuarantinedList()) {
                    table.row(runtime.name(), ext.getManifest().getId(), ext.getManifest().getVersion(),
                            "quarantined", "-", "-", String.join(", ", ext.getManifest().getCapabilitiesList().stream()
                                    .map(c -> c.getName()).toList()));
                }
            }
            if (output.json()) {
                output.json(json);
            } else {
                output.table(table);
            }
            return ExitCode.OK;
        }

        private static String capabilities(ExtensionInfo ext) {
            return String.join(", ", ext.getManifest().getCapabilitiesList().stream().map(c -> c.getName()).toList());
        }
    }

    @Command(name = "describe", header = "Describe one extension of runtimes, with its past verdicts.",
            description = "Show an extension as each runtime holds it, and what became of the classloaders of its"
                    + " unloaded versions: COLLECTED, LEAKED with what holds it (causes, and the reference path once"
                    + " a heap dump was analysed), or COLLECTED later when the holder let go; and the exits its code"
                    + " asked for, which the runtime refused. A HOST:PORT needs no broker.")
    static final class Describe implements Callable<Integer> {

        @Mixin
        private RuntimeTarget target;

        @Mixin
        private Output output;

        @Parameters(index = "0", paramLabel = "ID", description = "The extension's id, e.g. legacy-guava.")
        private String id;

        @Override
        public Integer call() {
            List<Map<String, Object>> json = new ArrayList<>();
            Table table = Table.of("runtime", "version", "state", "verdict");
            List<String> paths = new ArrayList<>();
            List<String> exits = new ArrayList<>();
            for (Runtimes.Target runtime : target.targets()) {
                DescribeResponse described;
                try (Remote remote = Remote.runtime(runtime.address(), target.credentials())) {
                    described = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                            .withDeadlineAfter(10, TimeUnit.SECONDS)
                            .describe(DescribeRequest.newBuilder().setExtensionId(id).build());
                } catch (StatusRuntimeException e) {
                    throw Remote.failure("runtime", runtime.address(), e.getStatus(), "describing " + id + " at "
                            + runtime.name());
                }
                json.add(DeployCommand.entry(runtime, Json.of(described)));
                if (described.hasExtension()) {
                    ExtensionInfo ext = described.getExtension();
                    table.row(runtime.name(), ext.getManifest().getVersion(),
                            ext.getHibernated() ? "hibernated" : "loaded", "deployed at "
                                    + Instant.ofEpochSecond(ext.getDeployedAt().getSeconds()) + ", "
                                    + ext.getInvocations() + " calls, " + ext.getFailures() + " failed");
                }
                for (UnloadResponse unloaded : described.getUnloadedList()) {
                    table.row(runtime.name(), unloaded.getVersion(), "unloaded", UnloadCommand.reclamation(unloaded));
                    if (unloaded.getReclamation().hasLeakPath()) {
                        paths.add("What holds " + id + "@" + unloaded.getVersion() + " at " + runtime.name() + ":\n"
                                + UnloadCommand.leakPath(unloaded.getReclamation().getLeakPath()));
                    }
                }
                for (BlockedExit exit : described.getBlockedExitsList()) {
                    exits.add("  " + Instant.ofEpochSecond(exit.getAt().getSeconds()) + " " + runtime.name() + " "
                            + id + "@" + exit.getVersion() + " called " + exit.getCall() + " on thread '"
                            + exit.getThread() + "'" + (exit.getFramesCount() == 0 ? "" : " at " + exit.getFrames(0)));
                }
            }
            if (output.json()) {
                output.json(json);
            } else {
                output.table(table);
                paths.forEach(output::say);
                if (!exits.isEmpty()) {
                    output.say("Exits refused (an extension may not end its runtime):\n" + String.join("\n", exits));
                }
            }
            return ExitCode.OK;
        }
    }
}
