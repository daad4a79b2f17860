package io.capmesh.runtime.isolation;

import io.capmesh.runtime.Problem;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One started child JVM serving one extension: its process, the channel to it, and the tail of what it printed
 * (its log goes to the runtime's log, each line prefixed with the extension and the child's pid).
 */
final class Child {

    private static final System.Logger LOG = System.getLogger(Child.class.getName());
    private static final int TAIL_LINES = 20;

    private final String coordinates;
    private final Process process;
    private final Instant startedAt = Instant.now();
    private final Deque<String> tail = new ArrayDeque<>();
    private final CompletableFuture<String> handshake = new CompletableFuture<>();
    private final CompletableFuture<Void> outputEnded = new CompletableFuture<>();
    private volatile ChildProtocol.Ready ready;
    private volatile ManagedChannel channel;

    private Child(String coordinates, Process process) {
        this.coordinates = coordinates;
        this.process = process;
    }

    /**
     * Starts a child, hands it its configuration and waits until it serves.
     *
     * @throws Problem.ProblemException the child's own load error, or UNAVAILABLE when it did not start
     */
    static Child start(String coordinates, List<String> command, ChildProtocol.Config config, Duration timeout) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new Problem(Status.Code.UNAVAILABLE, coordinates + ": could not start a child JVM ("
                    + command.get(0) + "): " + e.getMessage()).toException();
        }
        Child child = new Child(coordinates, process);
        Thread reader = new Thread(child::readOutput, "capmesh-child-output-" + coordinates + "-" + process.pid());
        reader.setDaemon(true);
        reader.start();
        try {
            config.write(new DataOutputStream(process.getOutputStream()));
            child.awaitReady(timeout);
            return child;
        } catch (IOException | RuntimeException e) {
            child.stop(Duration.ZERO);
            if (e instanceof Problem.ProblemException problem) {
                throw problem;
            }
            throw new Problem(Status.Code.UNAVAILABLE, coordinates + ": the child JVM did not start: " + e
                    + child.tailText()).toException();
        }
    }

    private void awaitReady(Duration timeout) {
        String line;
        try {
            line = handshake.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new Problem(Status.Code.UNAVAILABLE, coordinates + ": the child JVM (pid " + pid()
                    + ") did not serve within " + timeout.toMillis() + " ms" + tailText()).toException();
        } catch (ExecutionException e) {
            awaitExit(Duration.ofSeconds(5));
            throw new Problem(Status.Code.UNAVAILABLE, coordinates + ": the child JVM (pid " + pid() + ") "
                    + describeExit("") + " before it served" + tailText()).toException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Problem(Status.Code.CANCELLED, coordinates + ": interrupted while its child JVM started")
                    .toException();
        }
        if (line.startsWith(ChildProtocol.FAILED)) {
            throw ChildProtocol.parseFailed(line).toException();
        }
        ready = ChildProtocol.Ready.parse(line);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", ready.port()).usePlaintext()
                .maxInboundMessageSize(Integer.MAX_VALUE) // answers are the extension's; the caller's side limits
                .intercept(new TraceContextForwarding())
                .build();
    }

    private void readOutput() {
        String prefix = "[" + coordinates + " pid " + process.pid() + "] ";
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = lines.readLine()) != null; ) {
                if (!handshake.isDone()
                        && (line.startsWith(ChildProtocol.READY) || line.startsWith(ChildProtocol.FAILED))) {
                    handshake.complete(line);
                    continue;
                }
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
                LOG.log(Level.INFO, prefix + line);
            }
        } catch (IOException closed) {
            // the child is gone; its exit is reported by whoever watches it
        }
        handshake.completeExceptionally(new IllegalStateException("the child's output ended"));
        outputEnded.complete(null);
    }

    long pid() {
        return process.pid();
    }

    Process process() {
        return process;
    }

    Instant startedAt() {
        return startedAt;
    }

    ChildProtocol.Ready ready() {
        return ready;
    }

    ManagedChannel channel() {
        return channel;
    }

    /** Waits up to the timeout for the process to end; true when it has. */
    boolean awaitExit(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /**
     * What ended the process, e.g. "exited with code 17" or "ran out of memory (-Xmx64m) and exited with code 3".
     *
     * @param maxHeap the child's heap limit, named when it ran out of memory
     */
    String describeExit(String maxHeap) {
        if (process.isAlive()) {
            return "stopped answering while its process still runs";
        }
        try { // its last words (an OutOfMemoryError, say) may still be in the pipe
            outputEnded.get(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // describe it from what was read
        }
        int code = process.exitValue();
        String memory = lastLineContaining("OutOfMemoryError");
        if (memory != null) {
            return "ran out of memory" + (maxHeap.isEmpty() ? "" : " (-Xmx" + maxHeap + ")")
                    + " and exited with code " + code + " (" + memory.trim() + ")";
        }
        if (code > 128 && code < 160) {
            return "was killed by signal " + (code - 128) + " (exit code " + code + ")";
        }
        return "exited with code " + code;
    }

    private String lastLineContaining(String text) {
        synchronized (tail) {
            var lines = tail.descendingIterator();
            while (lines.hasNext()) {
                String line = lines.next();
                if (line.contains(text)) {
                    return line;
                }
            }
        }
        return null;
    }

    private String tailText() {
        synchronized (tail) {
            return tail.isEmpty() ? "" : "; its last output: " + String.join(" | ", tail);
        }
    }

    /**
     * Stops the child: closing its standard input asks it to close the extension and exit; after the grace
     * period it is killed.
     */
    void stop(Duration grace) {
        ManagedChannel open = channel;
        if (open != null) {
            open.shutdownNow();
        }
        try {
            process.getOutputStream().close();
        } catch (IOException alreadyGone) {
            // nothing to tell a child that has exited
        }
        if (!awaitExit(grace)) {
            process.destroyForcibly();
            awaitExit(Duration.ofSeconds(10));
        }
    }

    @Override
    public String toString() {
        return "child JVM of " + coordinates + " (pid " + pid() + ")";
    }
}
