package io.capmesh.stub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Which failures are retried, failed over, counted against a replica or bounded, against real gRPC on loopback. */
class CallPolicyTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    @Test
    void resourceExhaustedIsRetriedOnTheSameReplicaAfterABackoff() throws Exception {
        Fakes.Runtime a = runtime("a").failingWith(Status.Code.RESOURCE_EXHAUSTED, Status.Code.RESOURCE_EXHAUSTED);
        Fakes.Runtime b = runtime("b");
        Capabilities caps = caps(broker(a.endpoint(), b.endpoint()),
                builder -> builder.retry(3, Duration.ofMillis(50), Duration.ofMillis(200)));

        long started = System.nanoTime();
        assertThat(call(caps)).isEqualTo("a:x");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isGreaterThan(Duration.ofMillis(70)); // 25-75, 50-150
        assertThat(log).containsExactly("a", "a", "a");
    }

    @Test
    void unavailableIsAcquiredAgainThenRetriedWhenNoReplicaIsLeft() throws Exception {
        Fakes.Runtime only = runtime("a").failingWith(Status.Code.UNAVAILABLE, Status.Code.UNAVAILABLE,
                Status.Code.UNAVAILABLE);
        Fakes.Broker broker = broker(only.endpoint());

        assertThat(call(caps(broker))).isEqualTo("a:x");
        assertThat(only.calls).hasValue(4); // attempt 1, again under a new lease, attempts 2 and 3
        assertThat(broker.acquires).hasValue(2);
    }

    @ParameterizedTest
    @EnumSource(names = {"INVALID_ARGUMENT", "NOT_FOUND", "PERMISSION_DENIED", "FAILED_PRECONDITION", "INTERNAL",
            "DEADLINE_EXCEEDED"})
    void neverRetriesNorFailsOverWhenAReplicaAnswered(Status.Code code) throws Exception {
        Fakes.Runtime a = runtime("a").failingWith(code);
        Fakes.Runtime b = runtime("b");
        Capabilities caps = caps(broker(a.endpoint(), b.endpoint()));

        assertThatThrownBy(() -> call(caps)).isInstanceOfSatisfying(CapabilityCallException.class, e -> {
            assertThat(e.code()).isEqualTo(code);
            assertThat(e.capability()).isEqualTo("core.echo");
            assertThat(e.method()).isEqualTo("echo");
            assertThat(e.endpoint()).isEqualTo("127.0.0.1:" + a.endpoint().getPort());
            assertThat(e).hasMessageStartingWith("core.echo: echo failed with " + code + ": a says " + code);
        });
        assertThat(log).containsExactly("a");
    }

    @Test
    void failsOverInTheBrokersOrderWhenAReplicaIsUnavailable() throws Exception {
        Fakes.Runtime a = runtime("a");
        Fakes.Runtime b = runtime("b");
        Fakes.Runtime c = runtime("c");
        a.always = Status.UNAVAILABLE;
        b.always = Status.UNAVAILABLE;

        assertThat(call(caps(broker(a.endpoint(), b.endpoint(), c.endpoint())))).isEqualTo("c:x");
        assertThat(log).containsExactly("a", "b", "c");
    }

    @Test
    void aReplicaWhoseCircuitOpenedIsSkippedByCallsAndTypedStubs() throws Exception {
        Fakes.Runtime a = runtime("a");
        Fakes.Runtime b = runtime("b");
        a.always = Status.UNAVAILABLE;
        Capabilities caps = caps(broker(a.endpoint(), b.endpoint()), builder -> builder.circuitBreaker(
                CircuitBreakerConfig.custom().slidingWindowSize(4).minimumNumberOfCalls(4)
                        .waitDurationInOpenState(Duration.ofMinutes(1)).build()));

        for (int i = 0; i < 10; i++) {
            assertThat(call(caps)).isEqualTo("b:x");
        }
        assertThat(a.calls).hasValue(4); // then its circuit opened
        var typed = RuntimeServiceGrpc.newBlockingStub(caps.get("core.echo").channel());
        assertThat(typed.invoke(InvokeRequest.newBuilder().setPayload(ByteString.copyFromUtf8("y")).build())
                .getPayload().toStringUtf8()).isEqualTo("b:y");
        assertThat(a.calls).hasValue(4);
    }

    @Test
    void aRuntimeThatAnswersSlowlyTripsItsBreakerThenTrafficFailsOverUntilItRecovers() throws Exception {
        Fakes.Runtime a = runtime("a");
        Fakes.Runtime b = runtime("b");
        a.delay = Duration.ofMillis(400);
        Capabilities caps = caps(broker(a.endpoint(), b.endpoint()), builder -> builder
                .attemptTimeout(Duration.ofMillis(100))
                .circuitBreaker(CircuitBreakerConfig.custom().slidingWindowSize(4).minimumNumberOfCalls(4)
                        .failureRateThreshold(50).waitDurationInOpenState(Duration.ofMillis(500))
                        .permittedNumberOfCallsInHalfOpenState(2).build()));

        for (int i = 0; i < 4; i++) { // a overruns each attempt's deadline: the call fails, a's breaker counts it
            assertThatThrownBy(() -> call(caps)).isInstanceOfSatisfying(CapabilityCallException.class,
                    e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        }
        for (int i = 0; i < 5; i++) {
            assertThat(call(caps)).isEqualTo("b:x"); // a's circuit is open: straight to b
        }
        assertThat(a.calls).hasValue(4);

        a.delay = Duration.ZERO; // a is healthy again; once the circuit's wait is over, trial calls find out
        Thread.sleep(600);
        for (int i = 0; i < 5; i++) {
            assertThat(call(caps)).isEqualTo("a:x");
        }
        assertThat(a.calls).hasValue(9);
    }

    @Test
    void typedCallsGetTheSamePoliciesAsInvoke() throws Exception {
        Fakes.Runtime a = runtime("a").failingWith(Status.Code.UNAVAILABLE);
        Fakes.Runtime b = runtime("b").failingWith(Status.Code.RESOURCE_EXHAUSTED);
        Capabilities caps = caps(broker(a.endpoint(), b.endpoint()),
                builder -> builder.retry(2, Duration.ofMillis(10), Duration.ofMillis(10)));

        String answer = caps.get("core.echo").call("echo", channel -> RuntimeServiceGrpc.newBlockingStub(channel)
                .invoke(InvokeRequest.newBuilder().setPayload(ByteString.copyFromUtf8("t")).build()))
                .getPayload().toStringUtf8();

        assertThat(answer).isEqualTo("a:t"); // a unavailable, b shed load, then the retry found a answering
        assertThat(log).containsExactly("a", "b", "a");
    }

    @Test
    void acquiresAgainOnceWhenEveryReplicaFailed() throws Exception {
        Fakes.Runtime good = runtime("good");
        Fakes.Broker broker = broker(Fakes.nothingListening()).thenGrant(List.of(good.endpoint()));
        Capabilities caps = caps(broker);

        assertThat(call(caps)).isEqualTo("good:x");
        assertThat(broker.acquires).hasValue(2);
        assertThat(caps.lease().id()).isEqualTo("lease-2");
        assertThat(caps.get("core.echo").replicas()).containsExactly("127.0.0.1:" + good.endpoint().getPort());
        await(() -> broker.released.contains("lease-1"));
        caps.close();
        assertThat(broker.released).containsExactly("lease-1", "lease-2");
    }

    @Test
    void whenNothingAnswersTheErrorListsEveryAttempt() throws Exception {
        List<Endpoint> nowhere = Fakes.nothingListening(2);
        Endpoint one = nowhere.get(0);
        Endpoint two = nowhere.get(1);
        Fakes.Broker broker = broker(one, two);
        Capabilities caps = caps(broker);

        assertThatThrownBy(() -> call(caps)).isInstanceOfSatisfying(CapabilityCallException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
            // three attempts over both replicas, the first one followed by one re-acquire
            assertThat(e.attempts()).hasSize(8).allMatch(a -> a.contains(": UNAVAILABLE"));
            assertThat(e.attempts().get(0)).startsWith("127.0.0.1:" + one.getPort() + ": UNAVAILABLE");
            assertThat(e.attempts().get(1)).startsWith("127.0.0.1:" + two.getPort() + ": UNAVAILABLE");
            assertThat(e).hasMessageContaining("no replica of core.echo answered")
                    .hasMessageContaining("check that the services tried are up");
        });
        assertThat(broker.acquires).hasValue(2);
    }

    @Test
    void anAttemptThatOverrunsItsDeadlineIsNotRetried() throws Exception {
        Fakes.Runtime slow = runtime("slow");
        slow.delay = Duration.ofMillis(1_000);
        Capabilities caps = caps(broker(slow.endpoint()), builder -> builder.attemptTimeout(Duration.ofMillis(100)));

        long started = System.nanoTime();
        assertThatThrownBy(() -> call(caps)).isInstanceOfSatisfying(CapabilityCallException.class,
                e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(900));
        assertThat(slow.calls).hasValue(1);
    }

    @Test
    void theBulkheadBoundsCallsInFlightPerCapability() throws Exception {
        Fakes.Runtime slow = runtime("slow");
        slow.delay = Duration.ofMillis(500);
        Capabilities caps = caps(broker(slow.endpoint()), builder -> builder.bulkhead(
                BulkheadConfig.custom().maxConcurrentCalls(1).maxWaitDuration(Duration.ZERO).build()));

        CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> call(caps),
                task -> new Thread(task, "first-call").start()); // not the common pool: one thread on two cores
        await(() -> slow.calls.get() == 1);
        assertThatThrownBy(() -> call(caps)).isInstanceOfSatisfying(CapabilityCallException.class, e -> {
            assertThat(e.code()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e).hasMessageContaining("already has 1 calls to core.echo in flight (its bulkhead)");
        });
        assertThat(first.get()).isEqualTo("slow:x");
        assertThat(slow.calls).hasValue(1);
    }

    private static String call(Capabilities caps) {
        return new String(caps.get("core.echo").invoke("echo", "x".getBytes(UTF_8)), UTF_8);
    }

    private Fakes.Runtime runtime(String name) throws Exception {
        return track(new Fakes.Runtime(name, log));
    }

    private Fakes.Broker broker(Endpoint... endpoints) throws Exception {
        return track(new Fakes.Broker(List.of(endpoints)));
    }

    private Capabilities caps(Fakes.Broker broker) {
        return caps(broker, UnaryOperator.identity());
    }

    private Capabilities caps(Fakes.Broker broker, UnaryOperator<CapabilityClient.Builder> configure) {
        CapabilityClient client = track(configure.apply(CapabilityClient.builder().broker(broker.target())
                .account("acme").retry(3, Duration.ofMillis(1), Duration.ofMillis(5))).build());
        return track(client.acquire(Acquire.require("core.echo")));
    }

    private <T extends AutoCloseable> T track(T closeable) {
        opened.add(closeable);
        return closeable;
    }

    static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
        await(Duration.ofSeconds(5), condition);
    }

    static void await(Duration timeout, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + timeout);
            }
            Thread.sleep(10);
        }
    }
}
