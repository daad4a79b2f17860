package io.capmesh.telemetry;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Reads the span files that the processes of a local mesh append to (see {@link TracingSettings#spanDir}). */
public final class TraceFiles {

    static final String SUFFIX = ".jsonl";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final Path dir;

    public TraceFiles(Path dir) {
        this.dir = dir;
    }

    /** Every span in the directory; a line still being written (the last, cut short) is skipped. */
    public List<SpanRecord> spans() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        List<SpanRecord> spans = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith(SUFFIX)).sorted().toList()) {
                for (String line : Files.readAllLines(file)) {
                    if (line.endsWith("}")) {
                        spans.add(JSON.readValue(line, SpanRecord.class));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the span files in " + dir, e);
        }
        return spans;
    }

    /** The spans of one trace. */
    public List<SpanRecord> trace(String traceId) {
        return spans().stream().filter(s -> s.traceId().equals(traceId)).toList();
    }

    /**
     * A trace once every span of it has arrived (processes export in batches, a moment after the spans end): each of
     * {@code services} has written spans to it, every span's parent is there, and every client span has the server
     * span of its call under it. After {@code timeout}, the trace as far as it got.
     */
    public TraceTree await(String traceId, Set<String> services, Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<SpanRecord> spans = trace(traceId);
            TraceTree tree = TraceTree.of(traceId, spans);
            boolean everyService = spans.stream().map(SpanRecord::service).collect(Collectors.toSet())
                    .containsAll(services);
            Set<String> parents = spans.stream().map(SpanRecord::parentSpanId).collect(Collectors.toSet());
            boolean everyCallServed = spans.stream().filter(s -> s.kind().equals("CLIENT"))
                    .allMatch(s -> parents.contains(s.spanId()));
            if ((everyService && everyCallServed && tree.roots().size() == 1) || System.nanoTime() > end) {
                return tree;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return tree;
            }
        }
    }

    /** The trace whose root span started last, optionally only roots of a given name. */
    public Optional<String> latestTrace(String rootName) {
        return spans().stream().filter(SpanRecord::root)
                .filter(s -> rootName == null || s.name().equals(rootName))
                .max(Comparator.comparingLong(SpanRecord::start)).map(SpanRecord::traceId);
    }
}
