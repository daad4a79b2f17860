package io.capmesh.cli;

import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CatalogEntry;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.ListCapabilitiesRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/** Finds the runtimes a command acts on: named by address, by tier, or by an extension they have loaded. */
final class Runtimes {

    private static final Pattern ADDRESS = Pattern.compile(".+:\\d+");

    /** A runtime to act on: how to name it in output, and where it listens. */
    record Target(String name, HostPort address) {
    }

    private Runtimes() {
    }

    /** The {@code --runtime} value is one runtime's {@code host:port}, not a tier. */
    static boolean isAddress(String runtime) {
        return ADDRESS.matcher(runtime).matches();
    }

    /** {@code --runtime}: a {@code host:port}, or a tier whose registered runtimes are all meant. */
    static List<Target> named(String runtime, BrokerAddress broker, ChannelCredentials credentials) {
        if (ADDRESS.matcher(runtime).matches()) {
            try {
                return List.of(new Target(runtime, HostPort.parse(runtime)));
            } catch (IllegalArgumentException e) {
                throw CliFailure.usage("--runtime " + e.getMessage());
            }
        }
        return ofTier(runtime, broker, credentials);
    }

    static List<Target> ofTier(String tier, BrokerAddress broker, ChannelCredentials credentials) {
        List<RuntimeHealth> registered = registered(broker, credentials);
        List<Target> targets = registered.stream().filter(r -> r.getRuntimeTier().equals(tier))
                .map(r -> new Target(r.getRuntimeId(), HostPort.of(r.getEndpoint()))).toList();
        if (targets.isEmpty()) {
            TreeSet<String> tiers = new TreeSet<>();
            registered.forEach(r -> tiers.add(r.getRuntimeTier()));
            throw CliFailure.notFound("no runtime of tier '" + tier + "' is registered with the broker at " + broker
                    + (tiers.isEmpty() ? " (none is)" : " (tiers: " + String.join(", ", tiers) + ")")
                    + "; pass --runtime TIER or HOST:PORT");
        }
        return targets;
    }

    /** Whether some runtime of a tier is registered. */
    /**
     * Where a package deploys: the runtimes {@code runtime} names, or every runtime of the tier its first capability
     * is named after (data for data.sql), or the core runtimes when there is no such tier.
     */
    static List<Target> forDeploy(String runtime, ExtensionJar extension, BrokerAddress broker,
                                  ChannelCredentials credentials) {
        return runtime != null ? named(runtime, broker, credentials)
                : ofTier(extension.manifest().flatMap(ExtensionJar.Manifest::tier)
                        .filter(tier -> hasTier(tier, broker, credentials)).orElse("core"), broker, credentials);
    }

    static boolean hasTier(String tier, BrokerAddress broker, ChannelCredentials credentials) {
        return registered(broker, credentials).stream().anyMatch(r -> r.getRuntimeTier().equals(tier));
    }

    /** The registered runtimes that have an extension loaded (any version, or the one given). */
    static List<Target> withLoaded(String extensionId, Optional<String> version, BrokerAddress broker,
                                   ChannelCredentials credentials) {
        List<Target> targets = new ArrayList<>();
        for (RuntimeHealth runtime : registered(broker, credentials)) {
            HostPort address = HostPort.of(runtime.getEndpoint());
            try (Remote remote = Remote.runtime(address, credentials)) {
                List<ExtensionInfo> loaded = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                        .withDeadlineAfter(5, TimeUnit.SECONDS)
                        .listExtensions(ListExtensionsRequest.getDefaultInstance())
                        .getExtensionsList();
                if (loaded.stream().anyMatch(e -> e.getManifest().getId().equals(extensionId)
                        && version.map(v -> v.equals(e.getManifest().getVersion())).orElse(true))) {
                    targets.add(new Target(runtime.getRuntimeId(), address));
                }
            } catch (StatusRuntimeException unreachable) {
                // a runtime that does not answer cannot be acted on either; the others still can
            }
        }
        if (targets.isEmpty()) {
            throw CliFailure.notFound("no runtime registered with the broker at " + broker + " has " + extensionId
                    + version.map(v -> " " + v).orElse("") + " loaded (`capmesh deploy` loads a jar; pass --runtime"
                    + " to ask one runtime directly)");
        }
        return targets;
    }

    /**
     * Waits until the broker lists what the runtimes now offer (they tell it right after a deploy or swap, but
     * asynchronously), so the next command can acquire it.
     *
     * @param offers capability name to version, as each runtime published it
     * @return false when the broker did not list them all in time; null when no broker answered
     */
    static Boolean awaitListed(BrokerAddress broker, ChannelCredentials credentials, List<Target> runtimes,
                               Map<String, String> offers, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Remote remote = Remote.broker(broker, credentials)) {
            var stub = CapabilityBrokerGrpc.newBlockingStub(remote.channel());
            while (true) {
                List<CatalogEntry> catalog = stub.withDeadlineAfter(2, TimeUnit.SECONDS)
                        .list(ListCapabilitiesRequest.getDefaultInstance()).getCapabilitiesList();
                boolean listed = offers.entrySet().stream().allMatch(offer -> catalog.stream().anyMatch(entry ->
                        entry.getName().equals(offer.getKey()) && entry.getVersionsList().contains(offer.getValue())
                                && runtimes.stream().allMatch(r -> entry.getReplicasList().stream()
                                        .anyMatch(e -> e.getPort() == r.address().port()))));
                if (listed) {
                    return true;
                }
                if (System.nanoTime() > deadline) {
                    return false;
                }
                Thread.sleep(100);
            }
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode() == io.grpc.Status.Code.UNAVAILABLE ? null : false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static List<RuntimeHealth> registered(BrokerAddress broker, ChannelCredentials credentials) {
        try (Remote remote = Remote.broker(broker, credentials)) {
            return CapabilityBrokerGrpc.newBlockingStub(remote.channel()).withDeadlineAfter(5, TimeUnit.SECONDS)
                    .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList();
        } catch (StatusRuntimeException e) {
            throw Remote.failure("broker", broker, e.getStatus(), "");
        }
    }
}
