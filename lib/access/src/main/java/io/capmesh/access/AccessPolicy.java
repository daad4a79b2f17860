package io.capmesh.access;

/** What each method of a service requires, by full gRPC method name ({@code package.Service/Method}). */
@FunctionalInterface
public interface AccessPolicy {

    Requirement requirementFor(String fullMethodName);

    /** Health and reflection stay open: Kubernetes probes and grpcurl's listing carry no credentials. */
    static boolean isInfrastructure(String fullMethodName) {
        return fullMethodName.startsWith("grpc.health.v1.") || fullMethodName.startsWith("grpc.reflection.");
    }
}
