package io.capmesh.runtime.spring;

import io.capmesh.runtime.RuntimeListener;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.reclaim.Reclamation;
import io.capmesh.telemetry.CapmeshAttributes;
import io.capmesh.telemetry.Tracing;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * Extension loads, swaps and unloads as spans, in the trace of the call that caused them (a Deploy, Swap, Unload
 * or Load from the broker) or as traces of their own at start-up. Listeners hear of a change once it is done, so
 * each span is recorded afterwards with the start the runtime measured.
 */
final class RuntimeTracing implements RuntimeListener {

    private final Tracer tracer;

    RuntimeTracing(Tracing tracing) {
        this.tracer = tracing.tracer();
    }

    @Override
    public void published(LoadedExtension current, LoadedExtension replaced) {
        long end = now();
        Span span = tracer.spanBuilder(replaced == null ? "extension load" : "extension swap")
                .setStartTimestamp(end - current.loadMicros() * 1_000, TimeUnit.NANOSECONDS)
                .setAttribute(CapmeshAttributes.EXTENSION, current.manifest().id())
                .setAttribute(CapmeshAttributes.VERSION, current.manifest().version())
                .startSpan();
        if (replaced != null) {
            span.setAttribute("capmesh.replaced", replaced.manifest().version());
        }
        span.end(end, TimeUnit.NANOSECONDS);
    }

    @Override
    public void reclaimed(Reclamation reclamation) {
        long end = now();
        Span span = tracer.spanBuilder("extension unload")
                .setStartTimestamp(end - TimeUnit.MILLISECONDS.toNanos(reclamation.millis()), TimeUnit.NANOSECONDS)
                .setAttribute(CapmeshAttributes.EXTENSION, reclamation.coordinates())
                .setAttribute(CapmeshAttributes.RESULT, reclamation.state().name().toLowerCase(java.util.Locale.ROOT))
                .startSpan();
        if (reclamation.state() == Reclamation.State.LEAKED) {
            span.setStatus(StatusCode.ERROR, "classloader still reachable: " + String.join("; ", reclamation.causes()));
        }
        span.end(end, TimeUnit.NANOSECONDS);
    }

    @Override
    public void reclamationChanged(Reclamation before, Reclamation after) {
        if (before.collectedAt() == null && after.collectedAt() != null) {
            tracer.spanBuilder("extension collected late")
                    .setAttribute(CapmeshAttributes.EXTENSION, after.coordinates()).startSpan().end();
        }
        if (before.awaitsLeakPath() && !after.awaitsLeakPath()) {
            Span span = tracer.spanBuilder("extension leak path")
                    .setAttribute(CapmeshAttributes.EXTENSION, after.coordinates())
                    .setAttribute(CapmeshAttributes.RESULT, after.leakPath() != null ? "found" : "none")
                    .startSpan();
            span.setAttribute("capmesh.leak_path", after.leakPath() != null ? after.leakPath().render()
                    : after.leakPathNote());
            span.end();
        }
    }

    private static long now() {
        Instant now = Instant.now(); // microseconds on current JDKs: short loads still get a duration
        return TimeUnit.SECONDS.toNanos(now.getEpochSecond()) + now.getNano();
    }
}
