package io.capmesh.cli;

import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.QuarantinedExtension;
import io.capmesh.proto.v1.ReleaseQuarantineRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.StatusRuntimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** The extensions runtimes keep without loading them: the causes of crash loops, and all of a safe-mode start's. */
@Command(name = "quarantine", header = "List and release the extensions runtimes keep without loading them.",
        description = "A runtime that ended abnormally (killed, crashed, out of memory) several times in a row, each"
                + " time while the same extension was loading or serving calls, restores that extension quarantined:"
                + " stored and listed, not loaded. A runtime started in safe mode"
                + " (capmesh.runtime.recovery.safe-mode=true) keeps every stored extension so. `release` loads one"
                + " again.",
        subcommands = {QuarantineCommand.ListQuarantined.class, QuarantineCommand.Release.class})
final class QuarantineCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw CliFailure.usage("name what to do: capmesh quarantine list --runtime TIER|HOST:PORT, or capmesh"
                + " quarantine release ID --runtime TIER|HOST:PORT");
    }

    @Command(name = "list", header = "List the quarantined extensions of runtimes, with the reason.")
    static final class ListQuarantined implements Callable<Integer> {

        @Mixin
        private RuntimeCommand.RuntimeTarget target;

        @Mixin
        private Output output;

        @Override
        public Integer call() {
            List<Map<String, Object>> json = new ArrayList<>();
            Table table = Table.of("runtime", "extension", "version", "since", "reason");
            for (Runtimes.Target runtime : target.targets()) {
                for (QuarantinedExtension ext : target.listExtensions(runtime).getQuarantinedList()) {
                    json.add(DeployCommand.entry(runtime, Json.of(ext)));
                    table.row(runtime.name(), ext.getManifest().getId(), ext.getManifest().getVersion(),
                            Instant.ofEpochSecond(ext.getSince().getSeconds()), ext.getReason());
                }
            }
            if (output.json()) {
                output.json(json);
            } else {
                output.table(table);
            }
            return ExitCode.OK;
        }
    }

    @Command(name = "release", header = "Load a quarantined extension again.",
            description = "Loads the stored extension on each runtime named and forgets the abnormal ends that"
                    + " quarantined it. Needs the deploy role where access control is on.")
    static final class Release implements Callable<Integer> {

        @Mixin
        private RuntimeCommand.RuntimeTarget target;

        @Mixin
        private Output output;

        @Parameters(index = "0", paramLabel = "ID", description = "The extension's id.")
        private String id;

        @Override
        public Integer call() {
            List<Map<String, Object>> json = new ArrayList<>();
            for (Runtimes.Target runtime : target.targets()) {
                DeployResponse released;
                try (Remote remote = Remote.runtime(runtime.address(), target.credentials())) {
                    released = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                            .withDeadlineAfter(60, TimeUnit.SECONDS)
                            .releaseQuarantine(ReleaseQuarantineRequest.newBuilder().setExtensionId(id).build());
                } catch (StatusRuntimeException e) {
                    throw Remote.failure("runtime", runtime.address(), e.getStatus(), "releasing " + id + " at "
                            + runtime.name());
                }
                json.add(DeployCommand.entry(runtime, Json.of(released)));
                output.say("released " + id + "@" + released.getExtension().getManifest().getVersion() + " at "
                        + runtime.name() + ": loaded in " + released.getLoadMicros() / 1000 + " ms");
            }
            if (output.json()) {
                output.json(json);
            }
            return ExitCode.OK;
        }
    }
}
