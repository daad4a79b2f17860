package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.ChildProcess;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.Isolation;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.isolation.ChildExit;
import io.capmesh.runtime.isolation.IsolationSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Extensions that ask for process isolation run in child JVMs of their own, with real child processes and real
 * gRPC on loopback: whatever kills a child (System.exit, running out of memory) fails only the calls it was
 * running, with UNAVAILABLE, while the runtime and its other extensions go on serving; the child is restarted and
 * reported; unload, swap, shutdown and restore manage the children.
 */
class ProcessIsolationTest {

    private static final String EXIT = "test.isolated-system-exit";
    private static final String HOG = "test.isolated-memory-hog";
    /** A bound for waits on a child JVM to start on a busy machine, not a target. */
    private static final Duration PATIENCE = Duration.ofSeconds(90);

    @TempDir
    Path data;

    private final List<String> reported = new CopyOnWriteArrayList<>();
    private TestRuntime runtime;

    @AfterEach
    void stop() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void anIsolatedExtensionAnswersFromAChildJvmOfItsOwn() throws Exception {
        start(RuntimeSettings.defaults(data));
        ExtensionInfo deployed = runtime.deploy("capmesh-ext-misbehaving-isolated-system-exit").getExtension();
        assertThat(deployed.getManifest().getIsolation()).isEqualTo(Isolation.ISOLATION_PROCESS);
        ChildProcess child = deployed.getChildProcess();
        assertThat(child.getState()).isEqualTo(ChildProcess.State.SERVING);
        assertThat(child.getPid()).isPositive().isNotEqualTo(ProcessHandle.current().pid());
        assertThat(child.getMaxHeap()).isEqualTo("256m");
        assertThat(ProcessHandle.of(child.getPid()).orElseThrow().info().commandLine().orElse(""))
                .contains("-Xmx256m", "-XX:+ExitOnOutOfMemoryError");

        assertThat(TestRuntime.text(runtime.invoke(EXIT, "ok", "hello"))).isEqualTo("hello");
        assertThat(TestRuntime.text(runtime.invoke(EXIT, "pid", ""))).isEqualTo(String.valueOf(child.getPid()));
        expect(() -> runtime.invoke(EXIT, "nope", ""), Status.Code.NOT_FOUND, "has no method 'nope'");

        // the streaming variant goes through the same child
        var answers = new LinkedBlockingQueue<Object>();
        StreamObserver<InvokeRequest> requests = runtime.async().invokeStream(collect(answers));
        requests.onNext(request(EXIT, "ok", "one"));
        requests.onNext(request(EXIT, "ok", "two"));
        requests.onCompleted();
        assertThat(answers.poll(30, TimeUnit.SECONDS)).isEqualTo("one");
        assertThat(answers.poll(30, TimeUnit.SECONDS)).isEqualTo("two");
        assertThat(answers.poll(30, TimeUnit.SECONDS)).isEqualTo("completed");

        assertThat(info("isolated-system-exit").getInvocations()).isEqualTo(4);
        assertThat(reported).isEmpty();
    }

    @Test
    void itsTypedServicesAreServedOnTheRuntimesPortAndDeadlinesReachTheChild() throws Exception {
        start(RuntimeSettings.defaults(data));
        byte[] isolatedEcho = TestExtensions.rewriteManifest(TestExtensions.bytes("capmesh-ext-echo"),
                json -> json.replace("\"in-process\"", "\"process\""));
        ChildProcess child = runtime.deploy(isolatedEcho).getExtension().getChildProcess();
        assertThat(child.getState()).isEqualTo(ChildProcess.State.SERVING);

        String echo = "capmesh.core.echo.v1.Echo";
        assertThat(TypedServicesTest.Reflection.services(runtime.channel())).contains(echo);
        var service = TypedServicesTest.Reflection.service(runtime.channel(), echo);
        assertThat(TypedServicesTest.Reply.of(TypedServicesTest.callEcho(runtime.channel(), service, "typed")))
                .isEqualTo(new TypedServicesTest.Reply("typed", "1.0.0"));

        expect(() -> runtime.stub().withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .invoke(request("core.echo", "hold", "20000")), Status.Code.DEADLINE_EXCEEDED);
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "after"))).isEqualTo("after");
        assertThat(info("core-echo").getChildProcess().getPid()).isEqualTo(child.getPid());
        assertThat(info("core-echo").getInvocations()).isEqualTo(3); // typed calls count too
    }

    @Test
    void systemExitInTheChildFailsOnlyItsCallWithUnavailableAndTheChildIsRestarted() throws Exception {
        // a restart delay long enough to see the calls refused while the runtime waits to restart
        start(RuntimeSettings.defaults(data).withIsolation(new IsolationSettings("256m", List.of(),
                Duration.ofSeconds(3), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(60))));
        runtime.deploy("capmesh-ext-echo");
        long first = runtime.deploy("capmesh-ext-misbehaving-isolated-system-exit").getExtension()
                .getChildProcess().getPid();

        expect(() -> runtime.invoke(EXIT, "exit", ""), Status.Code.UNAVAILABLE,
                "isolated-system-exit@1.0.0", EXIT + "/exit", "pid " + first, "exited with code 17", "retry");
        expect(() -> runtime.invoke(EXIT, "ok", "too soon"), Status.Code.UNAVAILABLE,
                "exited with code 17", "restarting it in", "retry");
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "still serving"))).isEqualTo("still serving");
        assertThat(ProcessHandle.of(first).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));

        ChildProcess restarted = awaitNewChild("isolated-system-exit", first);
        assertThat(TestRuntime.text(runtime.invoke(EXIT, "ok", "back"))).isEqualTo("back");
        assertThat(TestRuntime.text(runtime.invoke(EXIT, "pid", ""))).isEqualTo(String.valueOf(restarted.getPid()));
        assertThat(restarted.getRestarts()).isEqualTo(1);
        assertThat(restarted.getLastExit()).isEqualTo("exited with code 17");
        assertThat(restarted.hasLastExitAt()).isTrue();
        assertThat(reported).containsExactly(
                "exited isolated-system-exit@1.0.0 pid " + first + ": exited with code 17",
                "restarted isolated-system-exit@1.0.0 pid " + restarted.getPid() + " (restart 1)");
        assertThat(info("isolated-system-exit").getFailures()).isEqualTo(2);
    }

    @Test
    void runningOutOfMemoryEndsOnlyTheChildWhichIsRestarted() throws Exception {
        start(RuntimeSettings.defaults(data).withSettings(
                Map.of("isolated-memory-hog", Map.of(IsolationSettings.MAX_HEAP, "64m"))));
        runtime.deploy("capmesh-ext-echo");
        ChildProcess child = runtime.deploy("capmesh-ext-misbehaving-isolated-memory-hog").getExtension()
                .getChildProcess();
        assertThat(child.getMaxHeap()).isEqualTo("64m");

        expect(() -> runtime.invoke(HOG, "hog", ""), Status.Code.UNAVAILABLE, "isolated-memory-hog@1.0.0",
                HOG + "/hog", "ran out of memory (-Xmx64m) and exited with code 3", "OutOfMemoryError");
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "still serving"))).isEqualTo("still serving");

        ChildProcess restarted = awaitNewChild("isolated-memory-hog", child.getPid());
        assertThat(TestRuntime.text(runtime.invoke(HOG, "ok", "back"))).isEqualTo("back");
        assertThat(restarted.getLastExit()).startsWith("ran out of memory (-Xmx64m) and exited with code 3");
        assertThat(reported).anySatisfy(line -> assertThat(line)
                .startsWith("exited isolated-memory-hog@1.0.0 pid " + child.getPid() + ": ran out of memory"));
    }

    @Test
    void aStackOverflowFailsTheCallAndTheChildGoesOnServing() throws Exception {
        start(RuntimeSettings.defaults(data));
        long pid = runtime.deploy("capmesh-ext-misbehaving-isolated-stack-overflow").getExtension()
                .getChildProcess().getPid();
        expect(() -> runtime.invoke("test.isolated-stack-overflow", "recurse", ""), Status.Code.INTERNAL,
                "isolated-stack-overflow@1.0.0 failed on test.isolated-stack-overflow/recurse",
                "java.lang.StackOverflowError");
        assertThat(TestRuntime.text(runtime.invoke("test.isolated-stack-overflow", "pid", "")))
                .isEqualTo(String.valueOf(pid));
        assertThat(reported).isEmpty();
    }

    @Test
    void unloadStopsTheChildProcess() throws Exception {
        start(RuntimeSettings.defaults(data));
        long pid = runtime.deploy("capmesh-ext-misbehaving-isolated-system-exit").getExtension()
                .getChildProcess().getPid();
        ProcessHandle child = ProcessHandle.of(pid).orElseThrow();

        UnloadResponse unloaded = runtime.unload("isolated-system-exit");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        assertThat(unloaded.getReclamation().getCleanedList()).containsExactly("stopped its child JVM (pid " + pid + ")");
        assertThat(child.isAlive()).isFalse();
        expect(() -> runtime.invoke(EXIT, "ok", ""), Status.Code.NOT_FOUND);
        assertThat(reported).isEmpty(); // a stop that was asked for is no crash
    }

    @Test
    void aSwapStartsTheNewChildBeforeSwitchingAndStopsTheOldOne() throws Exception {
        start(RuntimeSettings.defaults(data));
        long old = runtime.deploy("capmesh-ext-misbehaving-isolated-system-exit").getExtension()
                .getChildProcess().getPid();
        byte[] next = TestExtensions.rewriteManifest(
                TestExtensions.bytes("capmesh-ext-misbehaving-isolated-system-exit"),
                json -> json.replace("\"version\": \"1.0.0\",\n  \"entryClass\"", "\"version\": \"1.1.0\",\n  \"entryClass\""));

        var swapped = runtime.swap(next);
        assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.1.0");
        long current = swapped.getCurrent().getChildProcess().getPid();
        assertThat(current).isNotEqualTo(old);
        assertThat(swapped.getPrevious().getReclamation().getCleanedList())
                .containsExactly("stopped its child JVM (pid " + old + ")");
        assertThat(ProcessHandle.of(old).map(ProcessHandle::isAlive)).isNotEqualTo(java.util.Optional.of(true));
        InvokeResponse answer = runtime.invoke(EXIT, "pid", "");
        assertThat(TestRuntime.text(answer)).isEqualTo(String.valueOf(current));
        assertThat(answer.getExtensionVersion()).isEqualTo("1.1.0");
    }

    @Test
    void stoppingTheRuntimeStopsItsChildrenAndARestartedRuntimeStartsThemAgain() throws Exception {
        start(RuntimeSettings.defaults(data));
        long pid = runtime.deploy("capmesh-ext-misbehaving-isolated-system-exit").getExtension()
                .getChildProcess().getPid();
        ProcessHandle child = ProcessHandle.of(pid).orElseThrow();
        runtime.close();
        runtime = null;
        assertThat(child.isAlive()).isFalse();

        start(RuntimeSettings.defaults(data));
        ChildProcess restored = info("isolated-system-exit").getChildProcess();
        assertThat(restored.getState()).isEqualTo(ChildProcess.State.SERVING);
        assertThat(restored.getPid()).isNotEqualTo(pid);
        assertThat(TestRuntime.text(runtime.invoke(EXIT, "ok", "restored"))).isEqualTo("restored");
    }

    private void start(RuntimeSettings settings) throws Exception {
        runtime = new TestRuntime(settings);
        runtime.host().runtime().addListener(new RuntimeListener() {
            @Override
            public void childExited(ChildExit exit) {
                reported.add("exited " + exit.coordinates() + " pid " + exit.pid() + ": " + exit.cause());
            }

            @Override
            public void childRestarted(String coordinates, long pid, int restarts) {
                reported.add("restarted " + coordinates + " pid " + pid + " (restart " + restarts + ")");
            }
        });
    }

    private ExtensionInfo info(String id) {
        return runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                .filter(e -> e.getManifest().getId().equals(id)).findFirst().orElseThrow();
    }

    /** Waits until a child other than {@code previous} serves the extension. */
    private ChildProcess awaitNewChild(String id, long previous) throws InterruptedException {
        long deadline = System.nanoTime() + PATIENCE.toNanos();
        while (System.nanoTime() < deadline) {
            ChildProcess child = info(id).getChildProcess();
            if (child.getState() == ChildProcess.State.SERVING && child.getPid() != previous) {
                return child;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(id + " was not restarted within " + PATIENCE + ": " + info(id).getChildProcess());
    }

    private static InvokeRequest request(String capability, String method, String payload) {
        return InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build();
    }

    private static StreamObserver<InvokeResponse> collect(LinkedBlockingQueue<Object> answers) {
        return new StreamObserver<>() {
            @Override
            public void onNext(InvokeResponse response) {
                answers.add(response.getPayload().toStringUtf8());
            }

            @Override
            public void onError(Throwable t) {
                answers.add(t);
            }

            @Override
            public void onCompleted() {
                answers.add("completed");
            }
        };
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
