package io.capmesh.cli;

/** Where a command's peer is, as given: something listens there or not, and gRPC reaches it by its target. */
interface Address {

    /** Whether something accepts a TCP connection there now (one replica at least). */
    boolean accepts();

    /** The gRPC target. */
    String target();
}
