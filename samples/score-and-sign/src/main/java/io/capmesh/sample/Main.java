package io.capmesh.sample;

import io.capmesh.stub.CapabilityClient;
import io.capmesh.telemetry.TraceFiles;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import java.time.Duration;

/**
 * Runs the sample once against a broker: {@code java -cp ... io.capmesh.sample.Main [broker] [account]}
 * (default {@code 127.0.0.1:9090}, {@code demo}). Traces go where the standard OpenTelemetry variables say, or to
 * the span files of {@code CAPMESH_TRACING_SPAN_DIR}; with span files, the trace is printed as a tree.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) {
        String broker = args.length > 0 ? args[0] : "127.0.0.1:9090";
        String account = args.length > 1 ? args[1] : "demo";
        TracingSettings settings = TracingSettings.fromEnvironment(ScoreAndSign.SPAN);
        try (Tracing tracing = Tracing.start(settings);
             CapabilityClient client = CapabilityClient.builder().broker(broker).account(account)
                     .openTelemetry(tracing.openTelemetry()).build()) {
            ScoreAndSign.Result result = ScoreAndSign.once(client, tracing.tracer(), Duration.ofSeconds(10));
            System.out.print(ScoreAndSign.describe(result));
            tracing.flush();
            if (settings.spanDir() != null) {
                System.out.println();
                System.out.print(new TraceFiles(settings.spanDir())
                        .await(result.traceId(), ScoreAndSign.TRACED_SERVICES, Duration.ofSeconds(5)).render());
            }
        }
    }
}
