package io.capmesh.stub;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One deadline for a whole composition, over real gRPC on loopback. */
class CompositionTest {

    private final List<String> log = Collections.synchronizedList(new ArrayList<>());
    private final List<AutoCloseable> opened = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    @Test
    void aSequencePassesEachAnswerOnWithinOneDeadline() throws Exception {
        Capabilities caps = caps(runtime("a"));
        String out = Composition.sequence(Duration.ofSeconds(5), () -> {
            String first = call(caps, "x");
            return call(caps, first);
        });
        assertThat(out).isEqualTo("a:a:x");
    }

    @Test
    void theCompositionsDeadlineCutsAnAttemptThatWouldOtherwiseRunOn() throws Exception {
        Fakes.Runtime slow = runtime("slow");
        slow.delay = Duration.ofSeconds(3);
        Capabilities caps = caps(slow); // its per-attempt timeout is 10 s
        long started = System.nanoTime();
        assertThatThrownBy(() -> Composition.sequence(Duration.ofMillis(300), () -> call(caps, "x")))
                .isInstanceOfSatisfying(CapabilityCallException.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED));
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(2));
    }

    @Test
    void aFanOutRunsItsBranchesAtOnceAndAnswersInOrder() throws Exception {
        Fakes.Runtime a = runtime("a");
        Fakes.Runtime b = runtime("b");
        a.delay = Duration.ofMillis(400);
        b.delay = Duration.ofMillis(400);
        Capabilities onA = caps(a);
        Capabilities onB = caps(b);
        long started = System.nanoTime();
        List<Callable<String>> branches = List.of(() -> call(onA, "1"), () -> call(onB, "2"));
        assertThat(Composition.fanOut(Duration.ofSeconds(5), branches)).containsExactly("a:1", "b:2");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofMillis(780));
    }

    @Test
    void aFailingBranchFailsTheFanOutWithItsStatus() throws Exception {
        Capabilities good = caps(runtime("good"));
        Capabilities bad = caps(runtime("bad").failingWith(Status.Code.INVALID_ARGUMENT));
        List<Callable<String>> branches = List.of(() -> call(good, "1"), () -> call(bad, "2"));
        assertThatThrownBy(() -> Composition.fanOut(Duration.ofSeconds(5), branches))
                .isInstanceOfSatisfying(CapabilityCallException.class,
                        e -> assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    private static String call(Capabilities caps, String payload) {
        return new String(caps.get("core.echo").invoke("echo", payload.getBytes(UTF_8)), UTF_8);
    }

    private Fakes.Runtime runtime(String name) throws Exception {
        return track(new Fakes.Runtime(name, log));
    }

    private Capabilities caps(Fakes.Runtime runtime) throws Exception {
        Fakes.Broker broker = track(new Fakes.Broker(List.of(runtime.endpoint())));
        CapabilityClient client = track(CapabilityClient.builder().broker(broker.target()).account("acme")
                .retry(3, Duration.ofMillis(1), Duration.ofMillis(5)).build());
        return track(client.acquire(Acquire.require("core.echo")));
    }

    private <T extends AutoCloseable> T track(T closeable) {
        opened.add(closeable);
        return closeable;
    }
}
