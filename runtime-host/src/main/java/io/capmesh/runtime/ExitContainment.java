package io.capmesh.runtime;

import io.capmesh.exitguard.ExitGate;
import io.capmesh.runtime.loader.ExtensionClassLoader;

/**
 * The runtime's side of exit containment ({@code capmesh-exit-guard}): code is an extension's when its class
 * loader is an {@link ExtensionClassLoader} or a loader that extension code created under one, and each refused
 * exit goes to the runtime that loaded it. A call whose extension asked for an exit fails with
 * {@code FAILED_PRECONDITION} even when the extension caught the refusal.
 */
public final class ExitContainment {

    /**
     * The last exit refused on each thread: how a call learns that its extension swallowed the refusal. Its number
     * and message only: a pooled thread must not keep an unloaded extension's loader reachable.
     */
    private static final ThreadLocal<Refused> LAST_REFUSED = new ThreadLocal<>();

    private record Refused(long sequence, String message) {
    }

    static {
        ExitGate.govern(ExitContainment::extensionOf, attempt -> {
            LAST_REFUSED.set(new Refused(attempt.sequence(), attempt.message()));
            ExtensionClassLoader loader = extensionLoader(attempt.loader());
            if (loader != null) {
                loader.exitBlocked(attempt);
            }
        });
    }

    private ExitContainment() {
    }

    /** Governs exits in this JVM (once; later calls do nothing). */
    public static void install() {
        // the static initializer did it
    }

    /** True when this JVM started with the exit guard agent, so extensions cannot end it by exit or halt. */
    public static boolean active() {
        return ExitGate.armed();
    }

    /** Where a call notes the refusals so far, before it runs extension code. */
    public static long mark() {
        return ExitGate.blockedSoFar();
    }

    /**
     * The exit this thread's extension code asked for since {@code mark}, as the problem the call answers with;
     * null when it asked for none.
     */
    public static Problem refusedSince(long mark) {
        if (ExitGate.blockedSoFar() == mark) {
            return null; // the common case: one volatile read
        }
        Refused refused = LAST_REFUSED.get();
        if (refused == null || refused.sequence() <= mark) {
            return null;
        }
        LAST_REFUSED.remove();
        return Problem.precondition(refused.message());
    }

    /** The refusal in a failure's causes, if the failure came from one. */
    public static ExitGate.ExitBlockedException refusal(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof ExitGate.ExitBlockedException refused) {
                return refused;
            }
        }
        return null;
    }

    static BlockedExit describe(ExitGate.Attempt attempt) {
        String coordinates = attempt.extension();
        int at = coordinates.lastIndexOf('@');
        return new BlockedExit(coordinates.substring(0, at), coordinates.substring(at + 1), attempt.call(),
                attempt.thread(), attempt.frames().stream().map(StackTraceElement::toString).toList(), attempt.at());
    }

    private static String extensionOf(ClassLoader loader) {
        ExtensionClassLoader extension = extensionLoader(loader);
        return extension == null ? null : extension.extension();
    }

    private static ExtensionClassLoader extensionLoader(ClassLoader loader) {
        for (ClassLoader candidate = loader; candidate != null; candidate = candidate.getParent()) {
            if (candidate instanceof ExtensionClassLoader extension) {
                return extension;
            }
        }
        return null;
    }
}
