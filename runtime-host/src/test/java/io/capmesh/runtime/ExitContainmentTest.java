package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.capmesh.proto.v1.BlockedExit;
import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.DescribeResponse;
import io.capmesh.runtime.loader.ExtensionServices;
import io.grpc.CallOptions;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.slf4j.LoggerFactory;

/**
 * No extension loaded in-process can end its runtime: each way of calling exit or halt that the deploy-time scan
 * cannot see is refused while the runtime goes on serving (were one to get through, this test's JVM would end and
 * the build with it). Each attempt fails its call with FAILED_PRECONDITION naming the extension, and is logged,
 * counted and shown in Describe.
 */
class ExitContainmentTest {

    @TempDir
    Path data;

    private TestRuntime runtime;
    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final Logger lifecycle = (Logger) LoggerFactory.getLogger("capmesh.lifecycle");

    @BeforeEach
    void start() throws Exception {
        assertThat(ExitContainment.active()).as("the tests' JVM runs with -javaagent:capmesh-exit-guard.jar, as"
                + " every runtime does").isTrue();
        lines.start();
        lifecycle.addAppender(lines);
        runtime = new TestRuntime(RuntimeSettings.defaults(data).withMaxCallTime(Duration.ofSeconds(5)));
    }

    @AfterEach
    void stop() throws Exception {
        lifecycle.detachAppender(lines);
        runtime.close();
    }

    @ParameterizedTest
    @CsvSource({
        "reflection,         Runtime.exit(3)",
        "method-handle,      Runtime.halt(4)",
        "shutdown-internals, Shutdown.exit(5)",
        "library-exit,       Runtime.exit(6)",
        "library-halt,       Runtime.halt(7)",
        "swallowed,          Runtime.exit(8)"})
    void everyExitIsRefusedAndTheRuntimeServesOn(String method, String call) throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-exit-attempts");

        assertThatThrownBy(() -> runtime.invoke("test.exit-attempts", method, ""))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).as(e.getStatus().toString())
                            .isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription())
                            .startsWith("exit-attempts@1.0.0 called " + call)
                            .contains("an extension may not end its runtime");
                });

        assertThat(TestRuntime.text(runtime.invoke("test.exit-attempts", "ok", "alive"))).isEqualTo("alive");
        BlockedExit shown = describe("exit-attempts").getBlockedExitsList().get(0);
        assertThat(shown.getVersion()).isEqualTo("1.0.0");
        assertThat(shown.getCall()).isEqualTo(call);
        assertThat(shown.getFramesList()).isNotEmpty();
        assertThat(shown.getFrames(0)).contains(method.startsWith("library") || method.equals("swallowed")
                ? "io.capmesh.extensions.terminator.Terminator" : "ExitAttemptsExtension");
        assertThat(lines.list).anySatisfy(line -> {
            assertThat(line.getFormattedMessage()).startsWith("exit-attempts@1.0.0 called " + call);
            assertThat(line.getKeyValuePairs()).anySatisfy(pair -> assertThat(pair.toString())
                    .isEqualTo("capmesh.event=\"exit-blocked\""));
        });
    }

    @ParameterizedTest
    @CsvSource({"Exit, Runtime.exit(11)", "Swallow, Runtime.halt(12)"})
    void aTypedServiceThatExitsFailsItsCallTheSameWay(String method, String call) throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-exit-attempts");

        assertThatThrownBy(() -> ClientCalls.blockingUnaryCall(runtime.channel(),
                typed(method), CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS),
                new byte[0]))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).as(e.getStatus().toString())
                            .isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).startsWith("exit-attempts@1.0.0 called " + call);
                });
        assertThat(describe("exit-attempts").getBlockedExitsList()).extracting(BlockedExit::getCall)
                .containsExactly(call);
    }

    @Test
    void aThreadStartedInStartCannotExitAfterTheDeploy() throws Exception {
        runtime.deploy("capmesh-ext-misbehaving-exit-in-start");

        List<BlockedExit> blocked = awaitBlockedExits("exit-in-start");

        assertThat(blocked).singleElement().satisfies(exit -> {
            assertThat(exit.getCall()).isEqualTo("Runtime.halt(9)");
            assertThat(exit.getThread()).isEqualTo("exit-in-start");
        });
        assertThat(TestRuntime.text(runtime.invoke("test.exit-in-start", "outcome", "")))
                .startsWith("refused: ").contains("ExitBlockedException");
    }

    @Test
    void anExitDuringStartFailsTheDeployAndIsRecorded() throws Exception {
        runtime.close();
        runtime = new TestRuntime(RuntimeSettings.defaults(data)
                .withSettings(Map.of("exit-in-start", Map.of("exit-during-start", "true"))));

        assertThatThrownBy(() -> runtime.deploy("capmesh-ext-misbehaving-exit-in-start"))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("failed to load",
                            "exit-in-start@1.0.0 called Runtime.exit(10)");
                });
        assertThat(describe("exit-in-start").getBlockedExitsList()).singleElement()
                .satisfies(exit -> assertThat(exit.getFrames(0)).contains("ExitInStartExtension.start"));
    }

    /** A method of the extension's typed service {@code test.exits.v1.Exits}, its messages plain bytes. */
    private static MethodDescriptor<byte[], byte[]> typed(String name) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("test.exits.v1.Exits", name))
                .setRequestMarshaller(ExtensionServices.BYTES).setResponseMarshaller(ExtensionServices.BYTES).build();
    }

    private List<BlockedExit> awaitBlockedExits(String id) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            List<BlockedExit> blocked = describe(id).getBlockedExitsList();
            if (!blocked.isEmpty()) {
                return blocked;
            }
            Thread.sleep(50);
        }
        throw new AssertionError(id + " recorded no blocked exit in 30 s");
    }

    private DescribeResponse describe(String id) {
        return runtime.stub().describe(DescribeRequest.newBuilder().setExtensionId(id).build());
    }
}
