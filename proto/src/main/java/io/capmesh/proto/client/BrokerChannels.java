package io.capmesh.proto.client;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannelBuilder;
import java.util.List;
import java.util.Map;

/**
 * Channels to a control plane of one or more broker replicas, however they are reached:
 * <ul>
 *   <li>{@code host:port}: one address, or a DNS name and every address it resolves to (a headless Service);</li>
 *   <li>{@code host1:port1,host2:port2}: several replicas by address;</li>
 *   <li>any gRPC target, such as {@code dns:///broker.capmesh:9090}.</li>
 * </ul>
 * A call that finds its replica gone (UNAVAILABLE: refused, reset, or a replica that cannot read the store) is
 * tried again on another, up to five attempts within its deadline, so a replica that dies costs its callers nothing
 * but a retry. A call that repeating cannot harm (every one but Acquire) is also tried again on UNKNOWN, which
 * grpc-java's Netty transport reports ("channel closed") when the connection drops under a call (grpc-java#10120).
 * (A Release whose answer was lost may so answer NOT_FOUND: the lease is released either way.) (An Acquire whose answer was lost with its replica may so leave a second lease, unused until it
 * expires.) Names are looked up again whenever a connection drops, as grpc-java does on Kubernetes.
 */
public final class BrokerChannels {

    /** How calls spread over the replicas. */
    public enum Balancing {
        /** Every call to the next replica: stubs' acquires and renewals spread over the control plane. */
        ROUND_ROBIN("round_robin"),
        /**
         * One replica at a time, the first that answers in the order given (or resolved), moving on when it fails:
         * a runtime's heartbeats stay with the replica that heard the last one.
         */
        PICK_FIRST("pick_first");

        private final String policy;

        Balancing(String policy) {
            this.policy = policy;
        }
    }

    private static final String SERVICE = "capmesh.v1.CapabilityBroker";

    /** The broker's calls that may repeat: all but Acquire, a second of which would leave a second lease. */
    private static final List<String> IDEMPOTENT = List.of("List", "Release", "Renew", "Health", "Watch", "Register",
            "Heartbeat", "Deregister");

    private BrokerChannels() {
    }

    /** A channel builder for {@code target} (see above), to configure further and build. */
    public static ManagedChannelBuilder<?> builder(String target, ChannelCredentials credentials, Balancing balancing) {
        return Grpc.newChannelBuilder(grpcTarget(target), credentials)
                .defaultServiceConfig(serviceConfig(balancing))
                .enableRetry();
    }

    /** The gRPC target for a broker target: a comma-separated list becomes a {@code capmesh-list} target. */
    public static String grpcTarget(String target) {
        String trimmed = target.strip();
        if (trimmed.contains(",") && !trimmed.contains("://")) {
            // brackets (IPv6 literals) are not allowed in a URI's path: escaped, and read back by the resolver
            return AddressListResolverProvider.SCHEME + ":///"
                    + trimmed.replace(" ", "").replace("[", "%5B").replace("]", "%5D");
        }
        return trimmed;
    }

    private static Map<String, ?> serviceConfig(Balancing balancing) {
        return Map.of(
                "loadBalancingConfig", List.of(Map.of(balancing.policy, Map.of())),
                // retries stop once failed attempts outnumber tenfold successes by about 50: no storm against a
                // control plane that is down
                "retryThrottling", Map.of("maxTokens", 100.0, "tokenRatio", 0.1),
                "methodConfig", List.of(
                        retried(List.of(Map.of("service", SERVICE)), List.of("UNAVAILABLE")),
                        retried(IDEMPOTENT.stream().map(method -> Map.of("service", SERVICE, "method", method))
                                .toList(), List.of("UNAVAILABLE", "UNKNOWN"))));
    }

    private static Map<String, ?> retried(List<Map<String, String>> names, List<String> codes) {
        return Map.of(
                "name", names,
                "retryPolicy", Map.of(
                        "maxAttempts", 5.0,
                        "initialBackoff", "0.05s",
                        "maxBackoff", "1s",
                        "backoffMultiplier", 2.0,
                        "retryableStatusCodes", codes));
    }
}
