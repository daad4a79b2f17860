package io.capmesh.cli;

import io.capmesh.proto.client.BrokerChannels;
import io.capmesh.stub.CapabilityCallException;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

/**
 * A broker or runtime the command talks to, and what its failures mean to the user: nothing listening is
 * {@link ExitCode#UNREACHABLE} with where to look, an unknown name is {@link ExitCode#NOT_FOUND}, any other
 * refusal {@link ExitCode#FAILED} with the peer's own words.
 */
final class Remote implements AutoCloseable {

    private final String kind;
    private final Address address;
    private final ManagedChannel channel;

    private Remote(String kind, Address address, ChannelCredentials credentials) {
        this.kind = kind;
        this.address = address;
        // a broker behind one address may be several replicas: a call that meets one gone is tried on another
        this.channel = (kind.equals("broker")
                ? BrokerChannels.builder(address.target(), credentials, BrokerChannels.Balancing.PICK_FIRST)
                : Grpc.newChannelBuilder(address.target(), credentials))
                .maxInboundMessageSize(64 << 20).build();
    }

    static Remote broker(BrokerAddress address) {
        return broker(address, InsecureChannelCredentials.create());
    }

    /** @param credentials plaintext, or TLS as {@link BrokerTarget#credentials()} says */
    static Remote broker(BrokerAddress address, ChannelCredentials credentials) {
        return new Remote("broker", address, credentials);
    }

    static Remote runtime(HostPort address) {
        return runtime(address, InsecureChannelCredentials.create());
    }

    static Remote runtime(HostPort address, ChannelCredentials credentials) {
        return new Remote("runtime", address, credentials);
    }

    ManagedChannel channel() {
        return channel;
    }

    Address address() {
        return address;
    }

    /** Something listens but the connection failed: most often TLS on one side only, or certificates not trusted. */
    private static final String TLS_HINT = " (if the mesh runs TLS, pass --tls DIR with the certificates of"
            + " `capmesh certs`; with --tls, check that they are from the mesh's CA)";

    /** The failure to report for a call to this peer that ended with a status. */
    CliFailure failure(StatusRuntimeException e) {
        return failure(kind, address, e.getStatus(), "");
    }

    static CliFailure failure(String kind, Address address, Status status, String context) {
        Status.Code code = status.getCode();
        if ((code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) && !address.accepts()) {
            return CliFailure.unreachable(unreachable(kind, address));
        }
        String said = (context.isEmpty() ? "" : context + ": ") + describe(status)
                + (code == Status.Code.UNAVAILABLE ? TLS_HINT : "");
        return switch (code) {
            case NOT_FOUND -> CliFailure.notFound(said);
            default -> CliFailure.failed(said);
        };
    }

    /** A thin-stub failure: at the broker (acquire) or at a runtime (invoke). */
    static CliFailure failure(CapabilityCallException e, Address broker) {
        boolean atBroker = e.method().startsWith("CapabilityBroker/") || e.endpoint().isEmpty();
        Address address = atBroker ? broker : HostPort.parse(e.endpoint());
        Status.Code code = e.code();
        if ((code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED) && !address.accepts()) {
            return CliFailure.unreachable(unreachable(atBroker ? "broker" : "runtime", address));
        }
        String message = atBroker
                ? "cannot acquire " + e.capability() + ": " + describe(e.status())
                        + (code == Status.Code.NOT_FOUND ? "; `capmesh list` shows what the broker offers" : "")
                : e.capability() + " " + e.method() + " at " + address + ": " + describe(e.status());
        message += code == Status.Code.UNAVAILABLE ? TLS_HINT : "";
        return code == Status.Code.NOT_FOUND ? CliFailure.notFound(message) : CliFailure.failed(message);
    }

    static String unreachable(String kind, Address address) {
        return kind.equals("broker")
                ? "no broker at " + address + ": start one with `capmesh up` or pass --broker"
                : "no runtime at " + address + ": check it with `capmesh health`, or pass another --runtime";
    }

    /** {@code CODE: description}, the description's lines kept (a runtime lists every problem on its own). */
    static String describe(Status status) {
        String description = status.getDescription();
        return description == null || description.isBlank() ? status.getCode().toString()
                : status.getCode() + ": " + description;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        try {
            channel.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
