package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Methods an extension declares non-blocking run on the transport's thread of the connection that called them
 * (no handoff to the call pool): while one runs, that connection waits. One that runs longer than the limit sends
 * its extension's later calls to the call pool, with a warning; and a call that would have to wait for a permit
 * never waits on the transport's thread. Each test uses one channel, so one connection and one transport thread.
 */
class InlineCallsTest {

    @TempDir
    Path data;

    /** core-echo with {@code hold} (which sleeps) wrongly declared non-blocking beside {@code echo}. */
    private static byte[] echoWithHoldDeclaredNonBlocking() throws Exception {
        return TestExtensions.rewriteManifest(TestExtensions.bytes("capmesh-ext-echo"),
                json -> json.replace("\"nonBlocking\": [\"echo\"", "\"nonBlocking\": [\"echo\", \"hold\""));
    }

    @Test
    void aNonBlockingCallRunsOnTheTransportThreadUntilOneRunsLongThenOnThePool() throws Exception {
        List<LogRecord> warnings = new CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger(io.capmesh.runtime.loader.LoadedExtension.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(echoWithHoldDeclaredNonBlocking());
            ExtensionRuntime engine = runtime.host().runtime();
            assertThat(engine.mayRunInline("core.echo", "hold")).isTrue();
            for (int i = 0; i < LoadedExtension.WARM_CALLS; i++) { // the limit applies after
                assertThat(runtime.invoke("core.echo", "echo", "warm").getPayload().toStringUtf8()).isEqualTo("warm");
            }

            // held on the connection's transport thread: the next call on the connection is not even read
            var echo = engine.extension("core-echo").orElseThrow();
            CompletableFuture<InvokeResponse> held = call(runtime, "hold", "1500");
            awaitTrue(() -> echo.inFlight() == 1);
            assertThatThrownBy(() -> runtime.stub().withDeadlineAfter(500, TimeUnit.MILLISECONDS)
                    .invoke(request("echo", "behind the hold")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            assertThat(held.get(30, TimeUnit.SECONDS).getPayload().toStringUtf8()).isEqualTo("1.0.0 1500");

            // it ran past the limit: the runtime said so, and core-echo's calls now run on the pool
            assertThat(engine.mayRunInline("core.echo", "hold")).isFalse();
            assertThat(engine.mayRunInline("core.echo", "echo")).isFalse();
            assertThat(warnings).anySatisfy(w -> assertThat(w.getMessage())
                    .contains("core-echo@1.0.0", "core.echo/hold took", "call pool", "nonBlocking"));
            CompletableFuture<InvokeResponse> pooled = call(runtime, "hold", "3000");
            awaitTrue(() -> echo.inFlight() == 1);
            assertThat(runtime.stub().withDeadlineAfter(2, TimeUnit.SECONDS).invoke(request("echo", "beside it"))
                    .getPayload().toStringUtf8()).isEqualTo("beside it");
            assertThat(pooled.get(30, TimeUnit.SECONDS).getPayload().toStringUtf8()).isEqualTo("1.0.0 3000");
        } finally {
            log.removeHandler(capture);
        }
    }

    @Test
    void aNonBlockingCallThatMustWaitForAPermitWaitsOnThePoolNotTheTransportThread() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data).withCallLimits(1, 1))) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            assertThat(runtime.host().runtime().mayRunInline("core.echo", "echo")).isTrue();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", "2000"); // blocking: on the pool
            var echo = runtime.host().runtime().extension("core-echo").orElseThrow();
            awaitTrue(() -> echo.inFlight() == 1);
            CompletableFuture<InvokeResponse> waiting = call(runtime, "echo", "waited");
            awaitTrue(() -> echo.queued() == 1);

            // the connection's transport thread is free while the echo waits for the only permit
            assertThat(RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsCount()).isEqualTo(1);
            assertThat(waiting.get(30, TimeUnit.SECONDS).getPayload().toStringUtf8()).isEqualTo("waited");
            assertThat(held.get(30, TimeUnit.SECONDS).getPayload().toStringUtf8()).isEqualTo("1.0.0 2000");
            assertThat(runtime.host().runtime().mayRunInline("core.echo", "echo")).isTrue();
        }
    }

    private static InvokeRequest request(String method, String payload) {
        return InvokeRequest.newBuilder().setCapability("core.echo").setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build();
    }

    private static CompletableFuture<InvokeResponse> call(TestRuntime runtime, String method, String payload) {
        // a thread per call: the common pool may have a single thread on two cores, which would run them in turn
        return CompletableFuture.supplyAsync(() -> runtime.stub().withDeadlineAfter(30, TimeUnit.SECONDS)
                .invoke(request(method, payload)), task -> new Thread(task, "test-call").start());
    }

    private static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("the runtime did not reach the expected state within 30 s");
            }
            Thread.sleep(5);
        }
    }
}
