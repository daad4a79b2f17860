package io.capmesh.cli;

import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListCapabilitiesResponse;
import io.capmesh.proto.v1.Tier;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "list",
        header = "List the capabilities the broker knows.",
        description = "List the capabilities the broker knows: versions, whether some runtime has"
        + " them loaded (or loads them on demand), and the runtimes that offer them.")
final class ListCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Parameters(arity = "0..1", paramLabel = "PREFIX", defaultValue = "",
            description = "Only capabilities whose names start with this, e.g. core. or data.sql")
    private String prefix;

    @Option(names = "--healthy", description = "Only capabilities some healthy runtime offers.")
    private boolean healthyOnly;

    @Override
    public Integer call() {
        ListCapabilitiesResponse catalog;
        try (Remote broker = Remote.broker(target.broker(), target.credentials())) {
            catalog = CapabilityBrokerGrpc.newBlockingStub(broker.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .list(ListCapabilitiesRequest.newBuilder().setNamePrefix(prefix).setHealthyOnly(healthyOnly)
                            .build());
        } catch (StatusRuntimeException e) {
            throw Remote.failure("broker", target.broker(), e.getStatus(), "");
        }
        if (output.json()) {
            output.json(Json.of(catalog));
            return ExitCode.OK;
        }
        if (catalog.getCapabilitiesCount() == 0) {
            output.say(prefix.isEmpty() ? "The broker at " + target.broker() + " knows no capabilities yet."
                    : "No capability starts with '" + prefix + "'.");
            return ExitCode.OK;
        }
        Table table = Table.of("capability", "versions", "tier", "replicas", "depends on");
        for (CatalogEntry entry : catalog.getCapabilitiesList()) {
            table.row(entry.getName(), String.join(", ", entry.getVersionsList()), tier(entry),
                    entry.getReplicasList().stream().map(e -> HostPort.of(e).toString())
                            .collect(Collectors.joining(", ")),
                    entry.getDependenciesList().stream()
                            .map(d -> d.getVersionRange().isEmpty() ? d.getCapability()
                                    : d.getCapability() + "@" + d.getVersionRange())
                            .collect(Collectors.joining(", ")));
        }
        output.table(table);
        return ExitCode.OK;
    }

    private static String tier(CatalogEntry entry) {
        if (entry.getTier() == Tier.TIER_LOADED) {
            return "loaded";
        }
        long micros = entry.getEstimatedLoadMicros();
        return micros > 0 ? "on demand (~" + Math.max(1, micros / 1000) + " ms)" : "on demand";
    }
}
