package io.capmesh.cli;

import com.google.gson.JsonObject;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.AcquiredCapability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.MissingCapability;
import io.capmesh.proto.v1.ReleaseRequest;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "acquire", sortOptions = false,
        header = "Acquire capabilities and show their endpoints.",
        description = "Acquire capabilities from the broker and show the"
        + " lease and the endpoint (and fallbacks) of each; the lease is released again unless --keep.")
final class AcquireCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Parameters(arity = "1..*", paramLabel = "CAP[@RANGE]", converter = Wanted.Converter.class,
            description = "Required capabilities, each with an optional semver range: core.json, core.json@^1,"
                    + " 'data.sql@>=1.0.0 <2.0.0'. All are had or none.")
    private List<Wanted> required;

    @Option(names = "--optional", paramLabel = "CAP[@RANGE]", converter = Wanted.Converter.class,
            description = "A capability welcome if it can be had (repeatable); if not, it is listed as missing.")
    private List<Wanted> optional = List.of();

    @Option(names = "--account", paramLabel = "ACCOUNT", defaultValue = "cli",
            description = "Whose lease it is; the broker routes each account to its own replica (default:"
                    + " ${DEFAULT-VALUE}).")
    private String account;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s", converter = Durations.class,
            description = "How long the broker may take, loading a capability on demand included (default:"
                    + " ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Option(names = "--keep", description = "Keep the lease (it expires unless renewed) instead of releasing it.")
    private boolean keep;

    @Override
    public Integer call() {
        AcquireRequest request = AcquireRequest.newBuilder().setAccount(account).setTimeoutMillis(timeout.toMillis())
                .addAllRequired(required.stream().map(Wanted::toRequest).toList())
                .addAllOptional(optional.stream().map(Wanted::toRequest).toList())
                .build();
        try (Remote broker = Remote.broker(target.broker(), target.credentials())) {
            var stub = CapabilityBrokerGrpc.newBlockingStub(broker.channel());
            AcquireResponse lease;
            try {
                lease = stub.withDeadlineAfter(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS).acquire(request);
            } catch (StatusRuntimeException e) {
                CliFailure failure = Remote.failure("broker", broker.address(), e.getStatus(), "");
                throw failure.exitCode() == ExitCode.NOT_FOUND
                        ? CliFailure.notFound(failure.getMessage() + "; `capmesh list` shows what the broker offers")
                        : failure;
            }
            boolean released = false;
            if (!keep) {
                try {
                    stub.withDeadlineAfter(5, TimeUnit.SECONDS).release(ReleaseRequest.newBuilder()
                            .setLeaseId(lease.getLeaseId()).setAccount(account).build());
                    released = true;
                } catch (StatusRuntimeException e) {
                    output.note("could not release lease " + lease.getLeaseId() + " (" + Remote.describe(e.getStatus())
                            + "); it expires on its own");
                }
            }
            print(lease, released);
        }
        return ExitCode.OK;
    }

    private void print(AcquireResponse lease, boolean released) {
        Instant expires = Instant.ofEpochSecond(lease.getExpiresAt().getSeconds(), lease.getExpiresAt().getNanos());
        if (output.json()) {
            JsonObject json = Json.of(lease).getAsJsonObject();
            json.addProperty("released", released);
            output.json(json);
            return;
        }
        output.say("lease " + lease.getLeaseId() + " for account " + account + (released ? " (released again)"
                : " (kept: expires at " + expires + " unless renewed)"));
        Table acquired = Table.of("capability", "version", "endpoint", "runtime", "fallbacks");
        for (AcquiredCapability capability : lease.getAcquiredList()) {
            acquired.row(capability.getName(), capability.getVersion(), HostPort.of(capability.getEndpoint()),
                    capability.getEndpoint().getRuntimeId(), capability.getFallbacksList().stream()
                            .map(e -> HostPort.of(e).toString()).collect(Collectors.joining(", ")));
        }
        output.table(acquired);
        if (lease.getMissingCount() > 0) {
            output.say("");
            Table missing = Table.of("missing", "range", "required", "reason");
            for (MissingCapability m : lease.getMissingList()) {
                missing.row(m.getName(), m.getVersionRange().isEmpty() ? "any" : m.getVersionRange(),
                        m.getRequired() ? "yes" : "no", m.getReason());
            }
            output.table(missing);
        }
    }
}
