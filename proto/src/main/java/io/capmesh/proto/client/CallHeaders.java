package io.capmesh.proto.client;

import io.grpc.Metadata;

/** Headers of the capmesh contracts that carry credentials. */
public final class CallHeaders {

    /** {@code Bearer <token>}: who the caller is, where services require access control. */
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    /** The lease token from Acquire or Renew: what the caller may call on runtimes that check leases. */
    public static final Metadata.Key<String> LEASE = Metadata.Key.of("capmesh-lease", Metadata.ASCII_STRING_MARSHALLER);

    private CallHeaders() {
    }
}
