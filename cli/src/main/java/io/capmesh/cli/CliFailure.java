package io.capmesh.cli;

/**
 * An expected way for a command to fail: the message tells the user what went wrong and what to do, the exit
 * code lets a script tell the cases apart. Printed without a stack trace.
 */
public final class CliFailure extends RuntimeException {

    private final int exitCode;

    public CliFailure(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    public static CliFailure usage(String message) {
        return new CliFailure(ExitCode.USAGE, message);
    }

    public static CliFailure failed(String message) {
        return new CliFailure(ExitCode.FAILED, message);
    }

    public static CliFailure notFound(String message) {
        return new CliFailure(ExitCode.NOT_FOUND, message);
    }

    public static CliFailure unreachable(String message) {
        return new CliFailure(ExitCode.UNREACHABLE, message);
    }

    public int exitCode() {
        return exitCode;
    }
}
