package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.Repackager;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Calls past an extension's concurrent-call limit wait in a bounded queue, each within its own deadline, for
 * Invoke and typed-service calls alike; a call past the queue is refused, and a swap moves waiting calls to the
 * new version.
 */
class CallQueueTest {

    /** Long enough that the steps of a test happen while it holds the only permit. */
    private static final String HOLD_MILLIS = "5000";

    @TempDir
    Path data;

    private TestRuntime oneAtATimeWithOneWaiting() throws Exception {
        return new TestRuntime(RuntimeSettings.defaults(data).withCallLimits(1, 1));
    }

    @Test
    void aCallWaitsForThePermitAndOnePastTheQueueIsRefused() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            LoadedExtension echo = runtime.host().runtime().extension("core-echo").orElseThrow();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> echo.inFlight() == 1);
            CompletableFuture<InvokeResponse> queued = call(runtime, "echo", "queued", 60);
            await(() -> echo.queued() == 1);

            assertThatThrownBy(() -> runtime.invoke("core.echo", "echo", "third"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).contains("core-echo", "max-concurrent-calls",
                                "max-queued-calls");
                    });

            assertThat(TestRuntime.text(queued.get(60, TimeUnit.SECONDS))).isEqualTo("queued");
            assertThat(held.get(60, TimeUnit.SECONDS).getExtensionVersion()).isEqualTo("1.0.0");
            assertThat(echo.queued()).isZero();
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "after"))).isEqualTo("after");
        }
    }

    @Test
    void aQueuedCallWhoseDeadlinePassesIsRefusedWithDeadlineExceeded() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            LoadedExtension echo = runtime.host().runtime().extension("core-echo").orElseThrow();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> echo.inFlight() == 1);

            assertThatThrownBy(() -> runtime.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                    .invoke(request("echo", "late")))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
            await(() -> echo.queued() == 0); // it left the queue: its place is free again

            assertThat(held.get(60, TimeUnit.SECONDS).getExtensionVersion()).isEqualTo("1.0.0");
        }
    }

    @Test
    void typedServiceCallsShareThePermitsAndTheQueue() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            LoadedExtension echo = runtime.host().runtime().extension("core-echo").orElseThrow();
            ServiceDescriptor typed = TypedServicesTest.Reflection.service(runtime.channel(),
                    "capmesh.core.echo.v1.Echo");

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> echo.inFlight() == 1);
            CompletableFuture<TypedServicesTest.Reply> queued = CompletableFuture.supplyAsync(() ->
                    TypedServicesTest.Reply.of(TypedServicesTest.callEcho(runtime.channel(), typed, "queued")),
                    task -> new Thread(task, "test-call").start()); // not the common pool: it may be busy
            await(() -> echo.queued() == 1);

            assertThatThrownBy(() -> TypedServicesTest.callEcho(runtime.channel(), typed, "third"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                        assertThat(e.getStatus().getDescription()).contains("core-echo", "max-queued-calls");
                    });

            assertThat(queued.get(60, TimeUnit.SECONDS)).isEqualTo(new TypedServicesTest.Reply("queued", "1.0.0"));
            assertThat(held.get(60, TimeUnit.SECONDS).getExtensionVersion()).isEqualTo("1.0.0");
        }
    }

    @Test
    void anInvokeStreamMessageWaitsInTheSameQueue() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            LoadedExtension echo = runtime.host().runtime().extension("core-echo").orElseThrow();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> echo.inFlight() == 1);
            CompletableFuture<InvokeResponse> streamed = new CompletableFuture<>();
            StreamObserver<InvokeRequest> requests = runtime.async().withDeadlineAfter(60, TimeUnit.SECONDS)
                    .invokeStream(Completion.of(streamed));
            requests.onNext(request("echo", "streamed"));
            await(() -> echo.queued() == 1);

            assertThatThrownBy(() -> runtime.invoke("core.echo", "echo", "third"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));

            assertThat(TestRuntime.text(streamed.get(60, TimeUnit.SECONDS))).isEqualTo("streamed");
            requests.onCompleted();
            assertThat(held.get(60, TimeUnit.SECONDS).getExtensionVersion()).isEqualTo("1.0.0");
        }
    }

    @Test
    void aSwapMovesAWaitingCallToTheNewVersion() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            byte[] v1 = TestExtensions.bytes("capmesh-ext-echo");
            runtime.deploy(v1);
            LoadedExtension old = runtime.host().runtime().extension("core-echo").orElseThrow();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> old.inFlight() == 1);
            CompletableFuture<InvokeResponse> queued = call(runtime, "echo", "moved", 60);
            await(() -> old.queued() == 1);

            var swapped = runtime.swap(Repackager.withVersion(v1, "1.1.0"));

            InvokeResponse moved = queued.get(60, TimeUnit.SECONDS);
            assertThat(TestRuntime.text(moved)).isEqualTo("moved");
            assertThat(moved.getExtensionVersion()).isEqualTo("1.1.0");
            InvokeResponse finished = held.get(60, TimeUnit.SECONDS); // the swap let the running call finish
            assertThat(finished.getExtensionVersion()).isEqualTo("1.0.0");
            assertThat(swapped.getPrevious().getReclamation().getCausesList()).isEmpty();
        }
    }

    @Test
    void anUnloadRefusesAWaitingCallCleanly() throws Exception {
        try (TestRuntime runtime = oneAtATimeWithOneWaiting()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            LoadedExtension echo = runtime.host().runtime().extension("core-echo").orElseThrow();

            CompletableFuture<InvokeResponse> held = call(runtime, "hold", HOLD_MILLIS, 60);
            await(() -> echo.inFlight() == 1);
            CompletableFuture<InvokeResponse> queued = call(runtime, "echo", "never", 60);
            await(() -> echo.queued() == 1);

            runtime.unload("core-echo");

            assertThatThrownBy(() -> queued.get(60, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class).cause().isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
            assertThat(held.get(60, TimeUnit.SECONDS).getExtensionVersion()).isEqualTo("1.0.0");
        }
    }

    private static InvokeRequest request(String method, String payload) {
        return InvokeRequest.newBuilder().setCapability("core.echo").setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build();
    }

    /** One Invoke on its own thread, so the test can go on while it holds or waits for a permit. */
    private static CompletableFuture<InvokeResponse> call(TestRuntime runtime, String method, String payload,
                                                          long deadlineSeconds) {
        CompletableFuture<InvokeResponse> answer = new CompletableFuture<>();
        Thread thread = new Thread(() -> {
            try {
                answer.complete(runtime.stub().withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS)
                        .invoke(request(method, payload)));
            } catch (Throwable e) {
                answer.completeExceptionally(e);
            }
        });
        thread.setDaemon(true);
        thread.start();
        return answer;
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("the runtime did not reach the expected state within 30 s");
            }
            Thread.sleep(5);
        }
    }
}
