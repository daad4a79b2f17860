package io.capmesh.extensions.json;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.util.BufferRecyclers;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** What the runtime relies on: concurrent calls, and nothing of the extension left on its threads after close. */
class LifecycleTest {

    @Test
    void leavesNoJacksonBuffersOnTheCallingThread() throws Exception {
        Field recyclerRef = BufferRecyclers.class.getDeclaredField("_recyclerRef");
        recyclerRef.setAccessible(true);
        ThreadLocal<?> recycler = (ThreadLocal<?>) recyclerRef.get(null);

        try (Calls calls = new Calls()) {
            AtomicReference<Object> afterCalls = new AtomicReference<>();
            AtomicReference<Object> afterOwnUse = new AtomicReference<>();
            Thread caller = new Thread(() -> {
                try {
                    calls.call("parse", "{\"a\": [1, 2, 3]}");
                    calls.call("canonicalize", "{\"b\": 1, \"a\": \"x\"}");
                    calls.call("patch", "{\"document\": {}, \"patch\": [{\"op\": \"test\", \"path\": \"\", \"value\": 1}]}");
                } catch (Exception expected) {
                    // the failing test op makes zjsonpatch print both values, through Jackson
                }
                afterCalls.set(recycler.get());
                try {
                    new ObjectMapper().writeValueAsString(List.of(1));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
                afterOwnUse.set(recycler.get());
            });
            caller.start();
            caller.join();

            assertThat(afterCalls.get()).as("Jackson thread-local after calls").isNull();
            assertThat(afterOwnUse.get()).as("the same probe after using Jackson on that thread").isNotNull();
        }
    }

    @Test
    void answersConcurrentCallsAndStopsItsThreadsOnClose() throws Exception {
        Calls calls = new Calls();
        ExecutorService callers = Executors.newFixedThreadPool(8);
        try {
            List<Future<String>> answers = new ArrayList<>();
            for (int i = 0; i < 200; i++) {
                int n = i;
                Callable<String> call = () -> calls.call("canonicalize", "{\"n\": " + n + ", \"a\": [" + n + ".0]}");
                answers.add(callers.submit(call));
            }
            for (int i = 0; i < answers.size(); i++) {
                assertThat(answers.get(i).get()).isEqualTo("{\"a\":[" + i + "],\"n\":" + i + "}");
            }
        } finally {
            callers.shutdown();
        }
        assertThat(workerThreads()).isNotEmpty();

        calls.close();

        assertThat(workerThreads()).isEmpty();
    }

    private static List<String> workerThreads() {
        List<String> names = new ArrayList<>();
        Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive)
                .map(Thread::getName)
                .filter(name -> name.startsWith("core-json-worker-"))
                .forEach(names::add);
        return names;
    }
}
