package io.capmesh.telemetry;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collection;

/**
 * Appends finished spans to {@code <dir>/<service>-<pid>.jsonl}, one {@link SpanRecord} per line: a file per
 * process, so processes never interleave their writes, and {@link TraceFiles} reads them all back.
 */
final class SpanFileExporter implements SpanExporter {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final OutputStream out;

    private SpanFileExporter(OutputStream out) {
        this.out = out;
    }

    static SpanFileExporter open(Path dir, String service) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(service.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + ProcessHandle.current().pid()
                + TraceFiles.SUFFIX);
        return new SpanFileExporter(Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    }

    @Override
    public synchronized CompletableResultCode export(Collection<SpanData> spans) {
        try {
            StringBuilder lines = new StringBuilder();
            for (SpanData span : spans) {
                lines.append(JSON.writeValueAsString(SpanRecord.of(span))).append('\n');
            }
            out.write(lines.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.flush();
            return CompletableResultCode.ofSuccess();
        } catch (IOException | UncheckedIOException e) {
            return CompletableResultCode.ofExceptionalFailure(e);
        }
    }

    @Override
    public CompletableResultCode flush() {
        return CompletableResultCode.ofSuccess();
    }

    @Override
    public synchronized CompletableResultCode shutdown() {
        try {
            out.close();
            return CompletableResultCode.ofSuccess();
        } catch (IOException e) {
            return CompletableResultCode.ofExceptionalFailure(e);
        }
    }
}
