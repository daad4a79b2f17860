package io.capmesh.stub;

import io.grpc.Status;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SSLException;

/**
 * The one exception this library throws at its users: a call that got no answer, or a refusal. It carries the
 * final gRPC status, what was called, every attempt in order, and says what to look at next.
 */
public final class CapabilityCallException extends RuntimeException {

    private final Status status;
    private final String capability;
    private final String method;
    private final List<String> attempts;

    /**
     * @param capability the capability (or, for the broker, the capabilities) the call was about
     * @param method     the method called, e.g. {@code canonicalize} or {@code CapabilityBroker/Acquire}
     * @param attempts   each attempt in order, as {@code host:port: outcome}
     */
    CapabilityCallException(Status status, String capability, String method, List<String> attempts) {
        super(message(status, capability, method, attempts), status.getCause());
        this.status = status;
        this.capability = capability;
        this.method = method;
        this.attempts = List.copyOf(attempts);
    }

    public Status status() {
        return status;
    }

    public Status.Code code() {
        return status.getCode();
    }

    public String capability() {
        return capability;
    }

    public String method() {
        return method;
    }

    /** The endpoint of the last attempt as {@code host:port}, or {@code ""} when no endpoint was reached for. */
    public String endpoint() {
        return attempts.isEmpty() ? "" : attempts.get(attempts.size() - 1).split(": ", 2)[0];
    }

    /** Every attempt in order, as {@code host:port: outcome}. */
    public List<String> attempts() {
        return attempts;
    }

    /** A status as {@code CODE: description}, for attempts and logs. */
    static String brief(Status status) {
        return status.getDescription() == null ? status.getCode().toString()
                : status.getCode() + ": " + status.getDescription();
    }

    private static String message(Status status, String capability, String method, List<String> attempts) {
        StringBuilder message = new StringBuilder(capability).append(": ");
        if (!method.isEmpty()) {
            message.append(method).append(" failed with ");
        }
        message.append(brief(status));
        if (!attempts.isEmpty()) {
            message.append(" (tried ").append(String.join(", ", attempts)).append(')');
        }
        String hint = handshakeFailure(status).map(CapabilityCallException::tlsHint).orElse(hint(status.getCode()));
        return hint.isEmpty() ? message.toString() : message.append(". ").append(hint).toString();
    }

    /** The TLS failure under a status, if the connection failed there: the handshake or a peer's TLS alert. */
    static Optional<SSLException> handshakeFailure(Status status) {
        for (Throwable cause = status.getCause(); cause != null; cause = cause.getCause()) {
            if (cause instanceof SSLException tls) {
                return Optional.of(tls);
            }
        }
        return Optional.empty();
    }

    private static String tlsHint(SSLException failure) {
        return "The TLS handshake failed (" + failure.getMessage() + "): the client must trust the CA that signed the"
                + " server's certificate, and present a certificate the server trusts where it requires mutual TLS"
                + " (builder().tls(...) or mtls(...))";
    }

    private static String hint(Status.Code code) {
        return switch (code) {
            case UNAVAILABLE -> "Nothing answered: check that the services tried are up and reachable"
                    + " (client.list() shows the replicas the broker knows), and that this client uses TLS exactly"
                    + " when they do (builder().tls(...) or mtls(...))";
            case DEADLINE_EXCEEDED -> "The call overran its deadline: raise attemptTimeout on the client builder,"
                    + " or find out what slows the runtime";
            case RESOURCE_EXHAUSTED -> "Too many calls in flight: slow down, or raise the limit (the runtime's"
                    + " max-concurrent-calls, or this client's bulkhead)";
            case NOT_FOUND -> "Check the capability and method names against client.list() and what was acquired";
            case INVALID_ARGUMENT -> "The request was refused as given: fix the payload or attributes";
            case PERMISSION_DENIED -> "This account may not do that";
            case FAILED_PRECONDITION -> "Not possible in the current state; the description says what is missing";
            case CANCELLED -> "The call was cancelled: the calling thread was interrupted or the client closed";
            default -> "";
        };
    }
}
