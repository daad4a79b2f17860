package io.capmesh.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.grpc.ClientInterceptors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TracingTest {

    @TempDir
    Path dir;

    @Test
    void oneTraceCrossesAGrpcHopAndIsReadBackAsATree() throws Exception {
        String name = InProcessServerBuilder.generateName();
        try (Tracing client = Tracing.start(new TracingSettings("stub", "", dir, null));
             Tracing server = Tracing.start(new TracingSettings("runtime", "", dir, null))) {
            Server grpcServer = InProcessServerBuilder.forName(name).directExecutor()
                    .addService(ServerInterceptors.intercept(new HealthStatusManager().getHealthService(),
                            server.serverInterceptor()))
                    .build().start();
            ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
            String traceId;
            Span root = client.tracer().spanBuilder("compose").setAttribute(CapmeshAttributes.ACCOUNT, "acme")
                    .startSpan();
            try (Scope ignored = root.makeCurrent()) {
                traceId = root.getSpanContext().getTraceId();
                HealthGrpc.newBlockingStub(ClientInterceptors.intercept(channel, client.clientInterceptor()))
                        .check(HealthCheckRequest.getDefaultInstance());
            } finally {
                root.end();
            }
            client.flush();
            server.flush();
            channel.shutdownNow();
            grpcServer.shutdownNow();

            TraceFiles files = new TraceFiles(dir);
            assertThat(files.latestTrace("compose")).contains(traceId);
            List<SpanRecord> spans = files.trace(traceId);
            assertThat(spans).extracting(SpanRecord::service).containsExactlyInAnyOrder("stub", "stub", "runtime");
            TraceTree tree = TraceTree.of(traceId, spans);
            assertThat(tree.roots()).singleElement().satisfies(compose -> {
                assertThat(compose.span().name()).isEqualTo("compose");
                assertThat(compose.span().attributes()).containsEntry("capmesh.account", "acme");
                TraceTree.Node call = compose.children().get(0);
                assertThat(call.span().kind()).isEqualTo("CLIENT");
                assertThat(call.span().name()).isEqualTo("grpc.health.v1.Health/Check");
                assertThat(call.children()).singleElement().satisfies(served -> {
                    assertThat(served.span().service()).isEqualTo("runtime");
                    assertThat(served.span().kind()).isEqualTo("SERVER");
                });
            });
            assertThat(tree.render()).contains("trace " + traceId + " (3 spans)", "compose", "account=acme",
                    "└─ grpc.health.v1.Health/Check", "\n   └─ grpc.health.v1.Health/Check  runtime");
        }
        try (var files = Files.list(dir)) {
            assertThat(files).extracting(f -> f.getFileName().toString())
                    .allMatch(f -> f.matches("(stub|runtime)-\\d+\\.jsonl"));
        }
    }

    @Test
    void spansGoToAnOtlpCollectorWhenOneIsConfigured() throws Exception {
        List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
        HttpServer collector = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        collector.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            received.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath() + " "
                    + exchange.getRequestHeaders().getFirst("Content-Type") + " "
                    + new String(body, java.nio.charset.StandardCharsets.ISO_8859_1));
            exchange.sendResponseHeaders(200, -1);
            exchange.close();
        });
        collector.start();
        try (Tracing tracing = Tracing.start(new TracingSettings("broker",
                "http://127.0.0.1:" + collector.getAddress().getPort() + "/", null, null))) {
            tracing.tracer().spanBuilder("acquire for the collector").startSpan().end();
            tracing.flush();
        } finally {
            collector.stop(0);
        }
        // OTLP/HTTP: one protobuf export request holding the span's name and the service's
        assertThat(received).singleElement().satisfies(request -> assertThat(request)
                .startsWith("POST /v1/traces application/x-protobuf")
                .contains("acquire for the collector", "broker"));
    }

    @Test
    void tracingIsOffUnlessItHasSomewhereToGo() {
        assertThat(TracingSettings.from("broker", Map.of()).enabled()).isFalse();
        assertThat(TracingSettings.from("broker", Map.of(TracingSettings.OTLP_ENDPOINT, "http://collector:4318"))
                .enabled()).isTrue();
        assertThat(TracingSettings.from("broker", Map.of(TracingSettings.SPAN_DIR, dir.toString(),
                TracingSettings.DISABLED, "true")).enabled()).isFalse();
        try (Tracing off = Tracing.start(TracingSettings.from("broker", Map.of()))) {
            assertThat(off.enabled()).isFalse();
            assertThat(off.tracer().spanBuilder("x").startSpan().getSpanContext().isValid()).isFalse();
        }
    }
}
