package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bad extension gets a clear error or a named leak report, and never takes the runtime down. */
class MisbehavingExtensionsTest {

    @TempDir
    Path data;

    private TestRuntime runtime;

    @BeforeEach
    void start() throws Exception {
        runtime = new TestRuntime(RuntimeSettings.defaults(data).withMaxCallTime(Duration.ofSeconds(2)));
        runtime.deploy("capmesh-ext-echo");
    }

    @AfterEach
    void othersStillServe() throws Exception {
        try {
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "still serving")))
                    .isEqualTo("still serving");
        } finally {
            runtime.close();
        }
    }

    @Test
    void aStaticInitializerThatThrows() {
        refusedAtLoad("static-init", "static-init@1.0.0 (capmesh-ext-misbehaving-static-init.jar) failed to load",
                "ExceptionInInitializerError", "static initializer refuses to run");
    }

    @Test
    void aMissingClass() {
        refusedAtLoad("missing-class", "missing-class@1.0.0 (capmesh-ext-misbehaving-missing-class.jar)",
                "io.capmesh.extensions.misbehaving.missingclass.AbsentHelper (not in the jar)");
    }

    @Test
    void anEntryClassThatIsNotAnExtension() {
        refusedAtLoad("not-spi", "entry class io.capmesh.extensions.misbehaving.notspi.NotAnExtension does not "
                + "implement io.capmesh.extension.api.Extension");
    }

    @Test
    void aCallToSystemExitIsRefusedBeforeAnyClassLoads() {
        refusedAtLoad("system-exit", "would end the runtime's process",
                "java.lang.System.exit called in io/capmesh/extensions/misbehaving/systemexit/SystemExitExtension.class");
    }

    @Test
    void anInvocationThatThrows() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-invoke-throws");
        expect(() -> runtime.invoke("test.invoke-throws", "boom", "x"), Status.Code.INTERNAL,
                "invoke-throws@1.0.0 failed on test.invoke-throws/boom", "boom from invoke-throws");
        assertThat(TestRuntime.text(runtime.invoke("test.invoke-throws", "ok", "fine"))).isEqualTo("fine");
        var info = runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList()
                .stream().filter(e -> e.getManifest().getId().equals("invoke-throws")).findFirst().orElseThrow();
        assertThat(info.getInvocations()).isEqualTo(2);
        assertThat(info.getFailures()).isEqualTo(1);
        assertThat(runtime.unload("invoke-throws").getReclamation().getState())
                .isEqualTo(Reclamation.State.COLLECTED);
    }

    @Test
    void aCallThatNeverReturnsGetsDeadlineExceededAndItsUnloadReportsTheStuckThread() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-never-returns");
        long start = System.nanoTime();
        expect(() -> runtime.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS).invoke(request("hang")),
                Status.Code.DEADLINE_EXCEEDED);
        // without a deadline of its own, the runtime's cap (2 s here) ends the call
        expect(() -> runtime.stub().invoke(request("hang")), Status.Code.DEADLINE_EXCEEDED,
                "test.never-returns/hang did not finish within 2000 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        assertThat(runtime.stub().invoke(request("ok")).getPayload().toStringUtf8()).isEqualTo("ok");

        UnloadResponse unloaded = runtime.stub().unload(UnloadRequest.newBuilder().setExtensionId("never-returns")
                .setDrainTimeoutMillis(200).build());
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.LEAKED);
        assertThat(String.join("\n", unloaded.getReclamation().getCausesList()))
                .contains("2 call(s) still running after the drain timeout of 200 ms")
                .contains("is still running a call into the extension");
    }

    @Test
    void aHungCallOnAStreamEndsTheStreamWithDeadlineExceeded() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-never-returns");
        var answers = new java.util.concurrent.LinkedBlockingQueue<Object>();
        var requests = runtime.async().invokeStream(new io.grpc.stub.StreamObserver<>() {
            public void onNext(io.capmesh.proto.v1.InvokeResponse r) { answers.add(r.getPayload().toStringUtf8()); }
            public void onError(Throwable t) { answers.add(t); }
            public void onCompleted() { answers.add("completed"); }
        });
        requests.onNext(request("ok"));
        requests.onNext(request("hang"));
        requests.onNext(request("ok"));
        assertThat(answers.poll(5, TimeUnit.SECONDS)).isEqualTo("ok");
        assertThat(answers.poll(10, TimeUnit.SECONDS)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getDescription()).contains("test.never-returns/hang did not finish"));
        requests.onCompleted();
        assertThat(answers.poll(1, TimeUnit.SECONDS)).isNull();
        runtime.stub().unload(UnloadRequest.newBuilder().setExtensionId("never-returns").setDrainTimeoutMillis(100)
                .build());
    }

    @Test
    void aThreadAndATimerThatAreNeverStopped() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-thread-timer");
        UnloadResponse unloaded = runtime.unload("thread-timer");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.LEAKED);
        assertThat(unloaded.getReclamation().getCausesList())
                .anySatisfy(cause -> assertThat(cause).contains("thread 'leaky-poller' started by the extension"));
        assertThat(unloaded.getReclamation().getCleanedList())
                .anySatisfy(done -> assertThat(done).contains("cancelled timer thread 'leaky-timer'"));
    }

    @Test
    void threadLocalsLeftOnPooledThreadsAreCleared() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-thread-local");
        // many calls at once, so that several pooled threads are left holding a value
        var calls = new java.util.ArrayList<com.google.common.util.concurrent.ListenableFuture<?>>();
        var futures = io.capmesh.proto.v1.RuntimeServiceGrpc.newFutureStub(runtime.channel());
        for (int i = 0; i < 64; i++) {
            calls.add(futures.invoke(InvokeRequest.newBuilder().setCapability("test.thread-local")
                    .setMethod("remember").setPayload(com.google.protobuf.ByteString.copyFromUtf8("x" + i)).build()));
        }
        com.google.common.util.concurrent.Futures.allAsList(calls).get(30, TimeUnit.SECONDS);
        UnloadResponse unloaded = runtime.unload("thread-local");
        assertThat(unloaded.getReclamation().getState()).as(unloaded.toString())
                .isEqualTo(Reclamation.State.COLLECTED);
        // pooled threads are renewed; the thread running the unload removes its own entry
        assertThat(unloaded.getReclamation().getCleanedList())
                .isNotEmpty()
                .allSatisfy(done -> assertThat(done).contains("thread-local value of type "
                        + "io.capmesh.extensions.misbehaving.threadlocal.ThreadLocalExtension$Remembered"));
    }

    @Test
    void aJdbcDriverIsDeregistered() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-jdbc-driver");
        UnloadResponse unloaded = runtime.unload("jdbc-driver");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        assertThat(unloaded.getReclamation().getCleanedList()).anySatisfy(done -> assertThat(done)
                .contains("deregistered JDBC driver io.capmesh.extensions.misbehaving.jdbcdriver.LeakyDriver"));
    }

    @Test
    void aShutdownHookIsRemoved() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-shutdown-hook");
        UnloadResponse unloaded = runtime.unload("shutdown-hook");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        assertThat(unloaded.getReclamation().getCleanedList())
                .anySatisfy(done -> assertThat(done).contains("removed shutdown hook"));
    }

    @Test
    void anExtensionGetsItsOwnCopyOfALibraryTheHostAlsoHas() throws Exception {
        // the host has a modern Guava (through gRPC), with ImmutableList.toImmutableList
        assertThat(com.google.common.collect.ImmutableList.class.getMethod("toImmutableList")).isNotNull();
        runtime.deploy("capmesh-ext-legacy-guava");
        String whoami = TestRuntime.text(runtime.invoke("test.legacy-guava", "whoami", ""));
        assertThat(whoami)
                .contains("\"hasToImmutableList\": false")
                .contains("ExtensionClassLoader[legacy-guava@1.0.0]")
                .contains(data.resolve("jars").toString());
        assertThat(runtime.unload("legacy-guava").getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
    }

    private static InvokeRequest request(String method) {
        return InvokeRequest.newBuilder().setCapability("test.never-returns").setMethod(method)
                .setPayload(com.google.protobuf.ByteString.copyFromUtf8(method)).build();
    }

    private void refusedAtLoad(String kase, String... messageParts) {
        expect(() -> runtime.deploy("capmesh-ext-misbehaving-" + kase), Status.Code.FAILED_PRECONDITION,
                messageParts);
        assertThat(runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                .extracting(e -> e.getManifest().getId()).containsExactly("core-echo");
    }

    private static void expect(ThrowingCallable call, Status.Code code, String... messageParts) {
        assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            if (messageParts.length > 0) {
                assertThat(e.getStatus().getDescription()).contains(messageParts);
            }
        });
    }
}
