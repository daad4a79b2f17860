package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** An operator reads every change to what a runtime serves in its log: one line each, with its facts as fields. */
class LifecycleLogTest {

    @TempDir
    Path data;

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger lifecycle = (Logger) LoggerFactory.getLogger("capmesh.lifecycle");

    @BeforeEach
    void capture() {
        lines.start();
        lifecycle.addAppender(lines);
    }

    @AfterEach
    void release() {
        lifecycle.detachAppender(lines);
    }

    @Test
    void deploySwapUnloadAndALeakEachLogOneLineWithTheirFacts() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy("capmesh-ext-legacy-guava");
            runtime.swap(TestExtensions.rewriteManifest(TestExtensions.bytes("capmesh-ext-legacy-guava"),
                    manifest -> manifest.replace("\"1.0.0\"", "\"1.0.1\"")));
            runtime.unload("legacy-guava");
            runtime.deploy("capmesh-ext-misbehaving-thread-timer");
            runtime.unload("thread-timer");
        }
        List<Map<String, Object>> events = lines.list.stream().map(LifecycleLogTest::fields).toList();
        assertThat(events).extracting(e -> e.get("capmesh.event") + " " + e.get("capmesh.extension") + "@"
                + e.get("capmesh.version")).containsExactly(
                "deployed legacy-guava@1.0.0",
                "swapped legacy-guava@1.0.1",
                "unloaded legacy-guava@1.0.0",
                "unloaded legacy-guava@1.0.1",
                "deployed thread-timer@1.0.0",
                "unloaded thread-timer@1.0.0");
        assertThat(events).allSatisfy(e -> assertThat(e).containsKeys("capmesh.caller", "capmesh.took_ms"));
        assertThat(events.get(1)).containsEntry("capmesh.replaced", "1.0.0");
        assertThat(events.get(3)).containsEntry("capmesh.verdict", "COLLECTED");
        ILoggingEvent leak = lines.list.get(5);
        assertThat(leak.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
        assertThat(leak.getFormattedMessage()).startsWith("thread-timer@1.0.0 LEAKED")
                .contains("thread 'leaky-poller'").contains("cleaned up: ").contains("cancelled timer thread");
        assertThat(fields(leak)).containsEntry("capmesh.verdict", "LEAKED").containsKey("capmesh.causes");
    }

    private static Map<String, Object> fields(ILoggingEvent event) {
        return event.getKeyValuePairs().stream().collect(Collectors.toMap(p -> p.key, p -> p.value == null ? "" : p.value,
                (a, b) -> b, java.util.LinkedHashMap::new));
    }
}
