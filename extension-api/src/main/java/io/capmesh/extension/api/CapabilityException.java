package io.capmesh.extension.api;

/**
 * An expected failure of a call, reported to the caller with a status that says whose move it is.
 * The message is shown to the caller as it is: say what was wrong and how to fix it, never a secret.
 */
public final class CapabilityException extends RuntimeException {

    /** Why the call failed; each maps to the gRPC status of the same name. */
    public enum Reason {
        INVALID_ARGUMENT,
        NOT_FOUND,
        FAILED_PRECONDITION,
        RESOURCE_EXHAUSTED,
        PERMISSION_DENIED,
        UNAVAILABLE,
        /** The work ran out of time (a statement timeout, say). */
        DEADLINE_EXCEEDED,
        /** The work was rolled back by a conflict (a deadlock, a serialization failure): retry it whole. */
        ABORTED
    }

    private final Reason reason;

    public CapabilityException(Reason reason, String message) {
        this(reason, message, null);
    }

    public CapabilityException(Reason reason, String message, Throwable cause) {
        super(message, cause);
        this.reason = reason;
    }

    public static CapabilityException invalidArgument(String message) {
        return new CapabilityException(Reason.INVALID_ARGUMENT, message);
    }

    public static CapabilityException notFound(String message) {
        return new CapabilityException(Reason.NOT_FOUND, message);
    }

    public Reason reason() {
        return reason;
    }
}
