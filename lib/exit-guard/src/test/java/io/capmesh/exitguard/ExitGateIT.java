package io.capmesh.exitguard;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The agent in a JVM started with it, as every runtime is: code of a governed loader cannot end the JVM by any
 * path, and everything else still can.
 */
class ExitGateIT {

    private final List<ExitGate.Attempt> reported = new CopyOnWriteArrayList<>();

    @BeforeEach
    void govern() {
        QuitterLoader.govern(reported::add);
    }

    @Test
    void theAgentArmedTheGate() {
        assertThat(ExitGate.armed()).as("this JVM runs with -javaagent:capmesh-exit-guard.jar").isTrue();
        assertThat(ExitGate.class.getClassLoader()).as("the gate is the boot loader's, one for every loader").isNull();
    }

    @ParameterizedTest
    @CsvSource({
        "direct,            Runtime.exit(3)",
        "halt,              Runtime.halt(4)",
        "reflection,        Runtime.exit(5)",
        "methodHandle,      Runtime.halt(6)",
        "shutdownInternals, Shutdown.exit(7)"})
    void everyWayOfExitingIsRefusedAndReported(String way, String call) throws Exception {
        Method method = new QuitterLoader().loadClass(Quitter.class.getName()).getMethod(way);

        Throwable thrown = catchThrowable(() -> method.invoke(null));

        assertThat(thrown).isInstanceOf(InvocationTargetException.class);
        Throwable refusal = rootCause(thrown);
        assertThat(refusal).isInstanceOf(ExitGate.ExitBlockedException.class)
                .hasMessageStartingWith(QuitterLoader.NAME + " called " + call + " on thread '")
                .hasMessageContaining("Quitter." + way);
        assertThat(reported).singleElement().satisfies(attempt -> {
            assertThat(attempt.extension()).isEqualTo(QuitterLoader.NAME);
            assertThat(attempt.call()).isEqualTo(call);
            assertThat(attempt.thread()).isEqualTo(Thread.currentThread().getName());
            assertThat(attempt.frames()).first().satisfies(frame -> {
                assertThat(frame.getClassName()).isEqualTo(Quitter.class.getName());
                assertThat(frame.getMethodName()).isEqualTo(way);
            });
            assertThat(attempt.loader()).isInstanceOf(QuitterLoader.class);
        });
    }

    @Test
    void aThreadTheExtensionStartedCannotExitEither() throws Exception {
        new QuitterLoader().loadClass(Quitter.class.getName()).getMethod("fromThread").invoke(null);

        assertThat(reported).singleElement().satisfies(attempt -> {
            assertThat(attempt.thread()).isEqualTo("quitter-thread");
            assertThat(attempt.call()).isEqualTo("Runtime.exit(8)");
            assertThat(attempt.frames().get(0).getMethodName()).startsWith("lambda$fromThread");
        });
    }

    @Test
    void aSwallowedRefusalIsStillCountedAndReported() throws Exception {
        long before = ExitGate.blockedSoFar();

        Object answer = new QuitterLoader().loadClass(Quitter.class.getName()).getMethod("swallowed").invoke(null);

        assertThat(answer).isEqualTo("refused");
        assertThat(ExitGate.blockedSoFar()).isEqualTo(before + 1);
        assertThat(reported).singleElement().extracting(ExitGate.Attempt::sequence).isEqualTo(before + 1);
    }

    @Test
    void codeOfOtherLoadersIsNotGoverned() throws Exception {
        // the host's own code asks nothing of the policy's loader: checking it must let it through
        ExitGate.check("Runtime.exit", 0);

        assertThat(reported).isEmpty();
    }

    /** Each JDK the machine has for runtimes: the host still exits with its own status, extensions never do. */
    @ParameterizedTest
    @MethodSource("jdks")
    void theHostsOwnExitStillWorks(Path javaHome) throws Exception {
        Path jar = Path.of(System.getProperty("capmesh.exit-guard.jar"));
        Path log = Files.createTempFile("exiting-host", ".log");
        Process process = new ProcessBuilder(javaHome.resolve("bin/java").toString(), "-javaagent:" + jar,
                "-cp", System.getProperty("java.class.path"), ExitingHost.class.getName())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = Files.readString(log);
        assertThat(process.exitValue()).as(output).isEqualTo(ExitingHost.STATUS);
        assertThat(output).contains("armed: true", "refused: " + QuitterLoader.NAME + " called Runtime.exit(3)",
                "shutdown hook ran");
    }

    static Stream<Path> jdks() {
        Path current = Path.of(System.getProperty("java.home"));
        Path jdk25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
        return Files.isExecutable(jdk25.resolve("bin/java")) && !jdk25.equals(current)
                ? Stream.of(current, jdk25) : Stream.of(current);
    }

    private static Throwable rootCause(Throwable thrown) {
        Throwable cause = thrown;
        while (cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
