package io.capmesh.telemetry;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/**
 * One finished span as a span file holds it: a line of JSON.
 *
 * @param parentSpanId empty for a trace's root span
 * @param start        epoch nanoseconds
 * @param end          epoch nanoseconds
 * @param status       {@code UNSET}, {@code OK} or {@code ERROR}
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record SpanRecord(String traceId, String spanId, String parentSpanId, String service, String name, String kind,
                         long start, long end, String status, Map<String, String> attributes) {

    static final AttributeKey<String> SERVICE_NAME = AttributeKey.stringKey("service.name");

    public SpanRecord {
        parentSpanId = parentSpanId == null ? "" : parentSpanId;
        attributes = attributes == null ? Map.of() : attributes;
    }

    static SpanRecord of(SpanData span) {
        Map<String, String> attributes = new TreeMap<>();
        span.getAttributes().forEach((key, value) -> attributes.put(key.getKey(), String.valueOf(value)));
        String parent = span.getParentSpanContext().isValid() ? span.getParentSpanId() : "";
        return new SpanRecord(span.getTraceId(), span.getSpanId(), parent,
                span.getResource().getAttribute(SERVICE_NAME), span.getName(), span.getKind().name(),
                span.getStartEpochNanos(), span.getEndEpochNanos(), span.getStatus().getStatusCode().name(),
                attributes);
    }

    public Duration duration() {
        return Duration.ofNanos(end - start);
    }

    public boolean root() {
        return parentSpanId.isEmpty();
    }
}
