package io.capmesh.runtime.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.runtime.RuntimeHost;
import io.capmesh.runtime.RuntimeSettings;
import io.capmesh.runtime.TestExtensions;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.pkg.Repackager;
import io.capmesh.telemetry.SpanRecord;
import io.capmesh.telemetry.TraceFiles;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads, swaps and unloads become spans in the trace of whatever caused them, with what they did. */
class RuntimeTracingTest {

    @TempDir
    Path dir;

    @Test
    void loadSwapAndUnloadAreSpansUnderTheCallThatCausedThem() throws Exception {
        Path spans = dir.resolve("spans");
        String traceId;
        try (Tracing tracing = Tracing.start(new TracingSettings("core-runtime", "", spans, Duration.ofMillis(50)));
             RuntimeHost host = new RuntimeHost(RuntimeSettings.defaults(dir.resolve("data")))) {
            host.runtime().addListener(new RuntimeTracing(tracing));
            byte[] echo = TestExtensions.bytes("capmesh-ext-echo");
            Span operator = tracing.tracer().spanBuilder("operator").startSpan();
            try (Scope ignored = operator.makeCurrent()) {
                traceId = operator.getSpanContext().getTraceId();
                host.runtime().deploy(read(host, echo));
                host.runtime().swap(read(host, Repackager.withVersion(echo, "1.1.0")));
                host.runtime().unload("core-echo", "", Duration.ofSeconds(5));
            } finally {
                operator.end();
            }
            tracing.flush();
        }

        List<SpanRecord> trace = new TraceFiles(spans).trace(traceId);
        String operatorId = trace.stream().filter(s -> s.name().equals("operator")).findFirst().orElseThrow().spanId();
        assertThat(trace).filteredOn(s -> !s.name().equals("operator")).allSatisfy(span -> {
            assertThat(span.parentSpanId()).isEqualTo(operatorId);
            assertThat(span.service()).isEqualTo("core-runtime");
            assertThat(span.end()).isGreaterThanOrEqualTo(span.start());
        });
        assertThat(trace).filteredOn(s -> s.name().equals("extension load")).singleElement()
                .satisfies(load -> assertThat(load.attributes()).containsEntry("capmesh.extension", "core-echo")
                        .containsEntry("capmesh.version", "1.0.0"));
        assertThat(trace).filteredOn(s -> s.name().equals("extension swap")).singleElement()
                .satisfies(swap -> assertThat(swap.attributes()).containsEntry("capmesh.version", "1.1.0")
                        .containsEntry("capmesh.replaced", "1.0.0"));
        // the swap retires 1.0.0 and the unload 1.1.0: each ends with the collector's verdict
        assertThat(trace).filteredOn(s -> s.name().equals("extension unload"))
                .extracting(s -> s.attributes().get("capmesh.extension"), s -> s.attributes().get("capmesh.result"))
                .contains(org.assertj.core.groups.Tuple.tuple("core-echo@1.1.0", "collected"));
    }

    private static ExtensionPackage read(RuntimeHost host, byte[] jar) throws Exception {
        return host.bundled("core-echo.jar", new ByteArrayInputStream(jar));
    }
}
