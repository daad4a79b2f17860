package io.capmesh.cli;

import com.google.gson.JsonObject;
import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.BrokerHealthResponse;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(name = "health",
        header = "Show the broker and its runtimes with their state.",
        description = "Show the broker's state and every runtime registered with it: tier,"
        + " address, state and last heartbeat. Exits 1 when the broker or a runtime is not SERVING.")
final class HealthCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Override
    public Integer call() {
        BrokerAddress broker = target.broker();
        BrokerHealthResponse health;
        try (Remote remote = Remote.broker(broker, target.credentials())) {
            health = CapabilityBrokerGrpc.newBlockingStub(remote.channel()).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .health(BrokerHealthRequest.getDefaultInstance());
        } catch (StatusRuntimeException e) {
            throw Remote.failure("broker", broker, e.getStatus(), "");
        }
        boolean allServing = health.getState() == ServingState.SERVING
                && health.getRuntimesList().stream().allMatch(r -> r.getState() == ServingState.SERVING);
        if (output.json()) {
            JsonObject json = Json.of(health).getAsJsonObject();
            json.addProperty("broker", broker.toString());
            json.addProperty("allServing", allServing);
            output.json(json);
        } else {
            Table table = Table.of("service", "tier", "address", "state", "last heartbeat");
            table.row("broker", "", broker, state(health.getState()), "");
            Instant now = Instant.now();
            for (RuntimeHealth runtime : health.getRuntimesList()) {
                Instant beat = Instant.ofEpochSecond(runtime.getLastHeartbeat().getSeconds(),
                        runtime.getLastHeartbeat().getNanos());
                table.row(runtime.getRuntimeId(), runtime.getRuntimeTier(), HostPort.of(runtime.getEndpoint()),
                        state(runtime.getState()), Durations.brief(Duration.between(beat, now).abs()) + " ago");
            }
            output.table(table);
            if (health.getRuntimesCount() == 0) {
                output.say("No runtime is registered with the broker.");
            }
        }
        return allServing ? ExitCode.OK : ExitCode.FAILED;
    }

    private static String state(ServingState state) {
        return switch (state) {
            case SERVING -> "SERVING";
            case NOT_SERVING -> "NOT_SERVING";
            case UNKNOWN_STATE -> "UNKNOWN (heartbeats missed)";
            default -> state.toString();
        };
    }
}
