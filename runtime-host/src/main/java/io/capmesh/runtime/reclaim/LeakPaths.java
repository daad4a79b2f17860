package io.capmesh.runtime.reclaim;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.capmesh.runtime.isolation.ChildCommand;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * Finds the reference path that holds a leaked classloader: dumps the heap, has a child JVM analyse the dump
 * ({@link LeakPathAnalysis}, Square's Shark) and deletes it. A dump pauses the runtime for a full collection and
 * the write, so it is a setting ({@link Mode}), is taken only when the live heap fits the size cap, and several
 * leaks found while one dump is pending share it. The analysis runs in a child JVM so that its memory never
 * competes with the runtime's calls.
 */
public final class LeakPaths implements AutoCloseable {

    /** When to dump the heap for a leak. */
    public enum Mode {
        /** Never: a leak is reported with its causes only. */
        OFF,
        /** For every leak (several leaks found together share one dump). */
        EVERY_LEAK,
        /** At most one dump per {@link Settings#minInterval}; leaks in between get no path. */
        RATE_LIMITED
    }

    /**
     * @param mode         when to dump
     * @param minInterval  the least time between two dumps when rate-limited
     * @param maxDumpBytes the largest dump to write: a heap whose live part would not fit is not dumped, and a
     *                     dump that comes out larger is deleted unread
     * @param directory    where dumps are written (and deleted after analysis)
     * @param analysisHeap the analysing child JVM's {@code -Xmx}
     * @param timeout      how long an analysis may take
     */
    public record Settings(Mode mode, Duration minInterval, long maxDumpBytes, Path directory, String analysisHeap,
                           Duration timeout) {

        public static Settings off() {
            return new Settings(Mode.OFF, Duration.ofMinutes(10), 256L << 20, null, "512m", Duration.ofMinutes(2));
        }

        public Settings in(Path value) {
            return new Settings(mode, minInterval, maxDumpBytes, value, analysisHeap, timeout);
        }
    }

    /** How the note of a leak whose path is being looked for begins. */
    static final String ANALYSING = "analysing a heap dump";

    private static final System.Logger LOG = System.getLogger(LeakPaths.class.getName());
    /** Live objects take up to about this many times their heap size in an HPROF file (8-byte ids, record tags). */
    private static final double DUMP_PER_HEAP_BYTE = 1.5;

    private final Settings settings;
    private final ExecutorService analyst;
    /** Leaks waiting for the next dump, by loader serial. */
    private final Map<Long, Pending> pending = new LinkedHashMap<>();
    /** When the last dump was taken ({@link System#nanoTime()}); null before the first. */
    private Long lastDumpNanos;
    /** The analysing child JVM while one runs, for close() to end it. */
    private volatile Process analysing;

    private record Pending(LoaderIdentity owner, BiConsumer<LeakPath, String> done) {
    }

    public LeakPaths(Settings settings) {
        this.settings = settings;
        this.analyst = Executors.newSingleThreadExecutor(task -> {
            Thread thread = new Thread(task, "capmesh-leak-paths");
            thread.setDaemon(true);
            thread.setPriority(Thread.MIN_PRIORITY); // behind every call
            return thread;
        });
        if (settings.mode() != Mode.OFF) {
            deleteLeftovers(); // a dump whose analysis a crash interrupted
        }
    }

    public boolean enabled() {
        return settings.mode() != Mode.OFF;
    }

    /** Where a leak's path stands right after the verdict. */
    String note() {
        return enabled() ? ANALYSING + " for the reference path; Describe shows it when it is ready"
                : "heap dumps for leak paths are off (capmesh.runtime.leak-paths.mode); a heap dump (jcmd <pid> "
                + "GC.heap_dump) shows the path";
    }

    /** Finds the path of a leaked loader, later and on another thread; tells {@code done} the path or why none. */
    void find(LoaderIdentity owner, BiConsumer<LeakPath, String> done) {
        if (!enabled()) {
            return;
        }
        synchronized (pending) {
            pending.put(owner.serial(), new Pending(owner, done));
            if (pending.size() == 1) {
                analyst.execute(this::dumpAndAnalyse);
            }
        }
    }

    private void dumpAndAnalyse() {
        Map<Long, Pending> batch;
        synchronized (pending) {
            batch = new LinkedHashMap<>(pending);
            pending.clear();
        }
        try {
            String refused = refusal();
            if (refused != null) {
                batch.values().forEach(p -> tell(p, null, refused));
                return;
            }
            Files.createDirectories(settings.directory());
            Path dump = settings.directory().resolve("leak-" + ProcessHandle.current().pid() + "-"
                    + System.currentTimeMillis() + ".hprof");
            // The dump is deleted (or the failure to delete it logged) before anyone is told of it.
            Map<Long, LeakPath> found;
            String how;
            try {
                long pauseStart = System.nanoTime();
                ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                        .dumpHeap(dump.toString(), true);
                long pauseMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - pauseStart);
                lastDumpNanos = System.nanoTime();
                long size = Files.size(dump);
                if (size > settings.maxDumpBytes()) {
                    found = null;
                    how = "no path: the heap dump came to " + mb(size) + ", over the cap of "
                            + mb(settings.maxDumpBytes()) + " (capmesh.runtime.leak-paths.max-dump-size)";
                } else {
                    long analysisStart = System.nanoTime();
                    found = analyse(dump, batch.keySet());
                    how = mb(size) + " heap dump (a " + pauseMillis + " ms pause), analysed in "
                            + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - analysisStart) + " ms";
                }
            } finally {
                delete(dump);
            }
            if (found == null) {
                batch.values().forEach(p -> tell(p, null, how));
                return;
            }
            for (Map.Entry<Long, Pending> leak : batch.entrySet()) {
                LeakPath path = found.get(leak.getKey());
                tell(leak.getValue(), path, path != null ? "from a " + how
                        : "no strong path in a " + how + ": the loader was collected before the dump, or only "
                        + "soft, weak or finalizer references reach it");
                if (path != null) {
                    LOG.log(System.Logger.Level.WARNING, "leaked " + leak.getValue().owner().coordinates()
                            + " is held by\n" + path.render());
                }
            }
        } catch (IOException | RuntimeException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String note = "no path: the heap analysis failed: " + e.getMessage();
            LOG.log(System.Logger.Level.WARNING, note, e);
            batch.values().forEach(p -> tell(p, null, note));
        }
    }

    /** Deletes a dump; one that cannot be deleted is logged, and does not change what the analysis found. */
    private static void delete(Path dump) {
        try {
            Files.deleteIfExists(dump);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete the heap dump " + dump, e);
        }
    }

    /** Tells one leak its outcome; a listener that fails does not change what the others are told. */
    private static void tell(Pending leak, LeakPath path, String note) {
        try {
            leak.done().accept(path, note);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "telling " + leak.owner().coordinates() + " of its leak path failed", e);
        }
    }

    /** Why no dump may be taken now, or null. */
    private String refusal() {
        if (settings.mode() == Mode.RATE_LIMITED && lastDumpNanos != null
                && System.nanoTime() - lastDumpNanos < settings.minInterval().toNanos()) {
            return "no path: a heap dump was taken less than " + settings.minInterval().toMinutes() + " min ago "
                    + "(capmesh.runtime.leak-paths.min-interval)";
        }
        long expected = (long) (liveHeapBytes() * DUMP_PER_HEAP_BYTE);
        if (expected > settings.maxDumpBytes()) {
            return "no path: the live heap would make a dump of about " + mb(expected) + ", over the cap of "
                    + mb(settings.maxDumpBytes()) + " (capmesh.runtime.leak-paths.max-dump-size)";
        }
        return null;
    }

    /** The heap in use after the last collection of each pool: the live part, as far as the JVM knows it. */
    private static long liveHeapBytes() {
        long live = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                var afterGc = pool.getCollectionUsage();
                live += afterGc != null ? afterGc.getUsed() : pool.getUsage().getUsed();
            }
        }
        return live;
    }

    /** Runs {@link LeakPathAnalysis} on the dump in a child JVM and reads its answer. */
    private Map<Long, LeakPath> analyse(Path dump, Iterable<Long> serials) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(ChildCommand.java(LeakPathAnalysis.class, settings.analysisHeap(),
                List.of("-XX:TieredStopAtLevel=1")));
        command.add(dump.toString());
        serials.forEach(serial -> command.add(Long.toString(serial)));
        Path errors = Path.of(dump + ".err");
        Process process = new ProcessBuilder(command).redirectError(errors.toFile()).start();
        analysing = process;
        // bounds the reading as well as the wait: a stuck analysis is ended, which closes its output
        AtomicBoolean timedOut = new AtomicBoolean();
        CompletableFuture.delayedExecutor(settings.timeout().toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
            if (process.isAlive()) {
                timedOut.set(true);
                process.destroyForcibly();
            }
        });
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            Map<Long, LeakPath> paths = new HashMap<>(LeakPathAnalysis.read(out));
            process.waitFor();
            if (timedOut.get()) {
                throw new IOException("the analysis took longer than " + settings.timeout().toSeconds()
                        + " s (capmesh.runtime.leak-paths.timeout)");
            }
            if (process.exitValue() != 0) {
                throw new IOException("the analysing JVM exited with code " + process.exitValue() + ": "
                        + lastLine(errors));
            }
            return paths;
        } finally {
            process.destroyForcibly();
            analysing = null;
            delete(errors);
        }
    }

    /** The last line the analysing JVM wrote to its error stream, which says why it failed. */
    private static String lastLine(Path errors) {
        try {
            List<String> lines = Files.readAllLines(errors, StandardCharsets.UTF_8).stream()
                    .filter(line -> !line.isBlank()).toList();
            return lines.isEmpty() ? "it said nothing" : lines.get(lines.size() - 1).strip();
        } catch (IOException e) {
            return "its error output is unreadable: " + e.getMessage();
        }
    }

    private void deleteLeftovers() {
        if (settings.directory() == null || !Files.isDirectory(settings.directory())) {
            return;
        }
        try (Stream<Path> files = Files.list(settings.directory())) {
            files.filter(f -> f.getFileName().toString().startsWith("leak-")).forEach(f -> {
                try {
                    Files.deleteIfExists(f);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "could not delete old heap dumps in " + settings.directory(), e);
        }
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / (1024.0 * 1024.0));
    }

    @Override
    public void close() {
        analyst.shutdownNow();
        Process running = analysing;
        if (running != null) {
            running.destroyForcibly(); // ends the read the analyst waits in; it then deletes the dump
        }
    }
}
