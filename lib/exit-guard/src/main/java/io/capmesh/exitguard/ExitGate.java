package io.capmesh.exitguard;

import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The check {@code Runtime.exit} and {@code Runtime.halt} make once the agent has instrumented them: when the
 * calling thread's stack holds a frame of a class whose loader the host names as an extension's, the exit is
 * refused with an {@link ExitBlockedException} and the host hears of the attempt. Every other exit, the host's own
 * shutdown included, goes ahead.
 *
 * <p>With the agent, this class is loaded by the boot loader (the agent appends its jar there), so the JDK's
 * classes can call it and every class loader sees the one copy. Without the agent nothing calls {@link #check} and
 * {@link #armed()} answers false.
 */
public final class ExitGate {

    /** How many frames of the extension's code an attempt keeps: enough to find the call, small to log. */
    static final int FRAMES_KEPT = 5;

    private static final StackWalker WALKER = StackWalker.getInstance(
            Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE, StackWalker.Option.SHOW_HIDDEN_FRAMES));
    private static final AtomicLong BLOCKED = new AtomicLong();

    private static volatile boolean armed;
    private static volatile Policy policy;

    /**
     * An exit refused because extension code asked for it.
     *
     * @param sequence  this attempt's number among the attempts blocked in this JVM, from 1
     * @param extension what the host calls the extension ({@code id@version})
     * @param loader    the extension's class loader, as the host's policy named it
     * @param call      {@code Runtime.exit(3)} or {@code Runtime.halt(1)}
     * @param thread    the name of the thread that asked
     * @param frames    the extension's frames on that thread's stack, innermost first (at most five)
     */
    public record Attempt(long sequence, String extension, ClassLoader loader, String call, String thread,
                         List<StackTraceElement> frames, Instant at) {

        public String message() {
            return extension + " called " + call + " on thread '" + thread + "'"
                    + (frames.isEmpty() ? "" : " at " + frames.get(0))
                    + ": an extension may not end its runtime; it was refused. Fail the call with an exception"
                    + " instead, or deploy with \"isolation\": \"process\" to run in a JVM of its own";
        }
    }

    /** Thrown to the extension code that asked for an exit: what a Security Manager used to throw. */
    public static final class ExitBlockedException extends SecurityException {
        private final transient Attempt attempt;

        ExitBlockedException(Attempt attempt) {
            super(attempt.message());
            this.attempt = attempt;
        }

        public Attempt attempt() {
            return attempt;
        }
    }

    private record Policy(Function<ClassLoader, String> extensionOf, Consumer<Attempt> onBlocked) {
    }

    private ExitGate() {
    }

    /**
     * Puts the host in charge: {@code extensionOf} answers an extension's name for a class loader of its code
     * (null for anything else, the JDK's and the host's loaders included); {@code onBlocked} hears of each refused
     * exit on the thread that asked, before the exception is thrown. A later call replaces the earlier policy.
     */
    public static void govern(Function<ClassLoader, String> extensionOf, Consumer<Attempt> onBlocked) {
        policy = new Policy(extensionOf, onBlocked);
    }

    /** True when the agent instrumented {@code Runtime.exit} and {@code Runtime.halt} in this JVM. */
    public static boolean armed() {
        return armed;
    }

    /** How many exits were refused in this JVM so far: compare two readings to learn if one happened between. */
    public static long blockedSoFar() {
        return BLOCKED.get();
    }

    static void arm() {
        armed = true;
    }

    /**
     * Called first thing by {@code Runtime.exit}, {@code Runtime.halt} and the {@code java.lang.Shutdown} methods
     * they call (reflection can reach those too).
     *
     * @throws ExitBlockedException when extension code is on the calling stack
     */
    public static void check(String method, int status) {
        Policy current = policy;
        if (current == null) {
            return;
        }
        String[] extension = new String[1];
        ClassLoader[] loader = new ClassLoader[1];
        List<StackTraceElement> frames;
        try {
            frames = WALKER.walk(stack -> stack
                    .filter(frame -> {
                        ClassLoader candidate = frame.getDeclaringClass().getClassLoader();
                        String name = candidate == null ? null : current.extensionOf().apply(candidate);
                        if (name != null && extension[0] == null) {
                            extension[0] = name;
                            loader[0] = candidate;
                        }
                        return name != null;
                    })
                    .limit(FRAMES_KEPT)
                    .map(StackWalker.StackFrame::toStackTraceElement)
                    .toList());
        } catch (Throwable policyFailed) {
            return; // the host's own shutdown must never depend on its policy working, even out of memory
        }
        if (extension[0] == null) {
            return;
        }
        Attempt attempt = new Attempt(BLOCKED.incrementAndGet(), extension[0], loader[0], method + "(" + status + ")",
                Thread.currentThread().getName(), frames, Instant.now());
        try {
            current.onBlocked().accept(attempt);
        } catch (Throwable reportFailed) {
            // the exit is refused all the same
        }
        throw new ExitBlockedException(attempt);
    }
}
