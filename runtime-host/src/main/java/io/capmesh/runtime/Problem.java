package io.capmesh.runtime;

import io.grpc.Status;

/**
 * Why a runtime operation did not happen: the status the caller gets and a message a person can act on.
 *
 * @param code    the gRPC status code of the answer
 * @param message what was wrong and what to do about it
 */
public record Problem(Status.Code code, String message) {

    public static Problem invalid(String message) {
        return new Problem(Status.Code.INVALID_ARGUMENT, message);
    }

    public static Problem notFound(String message) {
        return new Problem(Status.Code.NOT_FOUND, message);
    }

    public static Problem exists(String message) {
        return new Problem(Status.Code.ALREADY_EXISTS, message);
    }

    public static Problem precondition(String message) {
        return new Problem(Status.Code.FAILED_PRECONDITION, message);
    }

    public static Problem exhausted(String message) {
        return new Problem(Status.Code.RESOURCE_EXHAUSTED, message);
    }

    public Status toStatus() {
        return Status.fromCode(code).withDescription(message);
    }

    /** Thrown where a problem ends an operation early; turned back into a {@link Problem} at the boundary. */
    public ProblemException toException() {
        return new ProblemException(this);
    }

    /** Carries a {@link Problem} out of deep call chains (package reading, loading). */
    public static final class ProblemException extends RuntimeException {
        private final Problem problem;

        public ProblemException(Problem problem) {
            super(problem.message(), null, false, false);
            this.problem = problem;
        }

        public Problem problem() {
            return problem;
        }
    }
}
