package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.LeakStep;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.reclaim.LeakPaths;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every verdict is true and every leak names its holder: extensions written to leave things behind in the JDK's
 * registries, executors, finalizers and caches, each unloaded from a real runtime and checked.
 */
class ReclamationVerdictsTest {

    /** The text a leak gets when nothing was recognized; a verdict carrying it names nothing. */
    private static final String GENERIC = "no thread, timer, thread-local, shutdown hook or JDK registry the runtime";
    private static final Duration LATE = Duration.ofSeconds(60);

    @TempDir
    Path data;

    private TestRuntime runtime;

    @AfterEach
    void stop() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void aFinalizerThatMakesTheLoaderReachableAgainIsALeakNotACollection() throws Exception {
        UnloadResponse unloaded = deployAndUnload("resurrect");
        try {
            assertThat(unloaded.getReclamation().getState()).as(unloaded.toString())
                    .isEqualTo(Reclamation.State.LEAKED);
            assertThat(unloaded.getReclamation().getCausesList())
                    .anySatisfy(cause -> assertThat(cause).contains("finalize()"))
                    .anySatisfy(cause -> assertThat(cause).contains("default uncaught-exception handler")
                            .contains("ResurrectExtension$Phoenix"));
            assertNamesItsHolder(unloaded);
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(null);
        }
        // with the handler gone, nothing holds it: the verdict flips, and says when
        Reclamation later = awaitVerdict("resurrect", r -> r.getState() == Reclamation.State.COLLECTED);
        assertThat(later.hasCollectedAt()).isTrue();
        assertThat(later.getCausesList()).isEqualTo(unloaded.getReclamation().getCausesList());
    }

    @Test
    void aScheduledExecutorTheExtensionNeverShutDownIsShutDown() throws Exception {
        UnloadResponse unloaded = deployAndUnload("scheduled-executor");
        assertCollected(unloaded, "shut down the extension's ScheduledThreadPoolExecutor (1 thread(s), 1 queued task(s)"
                + " of io.capmesh.extensions.misbehaving.scheduledexecutor.ScheduledExecutorExtension$Tick)");
    }

    @Test
    void aTaskHandedToCompletableFutureIsTheExtensionsToo() throws Exception {
        start(RuntimeSettings.defaults(data));
        runtime.deploy("capmesh-ext-misbehaving-async-task");
        runtime.invoke("test.async-task", "spawn", "5000");
        UnloadResponse unloaded = runtime.unload("async-task");
        if (unloaded.getReclamation().getState() == Reclamation.State.LEAKED) {
            // a common-pool worker runs it (more than two cores, or JDK 21 and later): never interrupted, but
            // named with the task's frame, and collected once the task ends
            assertThat(unloaded.getReclamation().getCausesList()).anySatisfy(cause -> assertThat(cause)
                    .contains("of the common ForkJoinPool runs a task of the extension").contains("AsyncTaskExtension"));
            assertThat(awaitVerdict("async-task", r -> r.getState() == Reclamation.State.COLLECTED).hasCollectedAt())
                    .isTrue();
        } else {
            // a thread per task, started during the call: interrupted, which ends the task
            assertCollected(unloaded, "interrupted thread '");
            assertThat(unloaded.getReclamation().getCleanedList()).anySatisfy(done -> assertThat(done)
                    .contains("AsyncTaskExtension"));
        }
    }

    @Test
    void aTaskOnTheCommonPoolIsNamedWithItsFrameAndTheVerdictFlipsWhenItEnds() throws Exception {
        start(RuntimeSettings.defaults(data));
        runtime.deploy("capmesh-ext-misbehaving-common-pool");
        runtime.invoke("test.common-pool", "spawn", "4000");
        UnloadResponse unloaded = runtime.unload("common-pool");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.LEAKED);
        assertThat(unloaded.getReclamation().getCausesList()).anySatisfy(cause -> assertThat(cause)
                .contains("of the common ForkJoinPool runs a task of the extension")
                .contains("at io.capmesh.extensions.misbehaving.commonpool.CommonPoolExtension"));
        assertNamesItsHolder(unloaded);
        assertThat(awaitVerdict("common-pool", r -> r.getState() == Reclamation.State.COLLECTED).hasCollectedAt())
                .isTrue();
    }

    @Test
    void aThreadThatEndsLateIsNamedThenItsLoaderIsCollectedAndTheVerdictSaysWhen() throws Exception {
        UnloadResponse unloaded = deployAndUnload("late-thread");
        assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.LEAKED);
        assertThat(unloaded.getReclamation().getCausesList()).anySatisfy(cause -> assertThat(cause)
                .contains("thread 'late-finisher' started by the extension is still running")
                .contains("LateThreadExtension").contains("ignored its interrupt"));
        long unloadedAt = System.currentTimeMillis();
        Reclamation later = awaitVerdict("late-thread", r -> r.getState() == Reclamation.State.COLLECTED);
        assertThat(later.getCollectedAt().getSeconds() * 1000).isGreaterThanOrEqualTo(unloadedAt - 1000);
        assertThat(later.getCausesList()).isNotEmpty(); // what held it until then
    }

    @Test
    void aHandlerOnTheRootLoggerAndACustomLevelAreRemoved() throws Exception {
        UnloadResponse unloaded = deployAndUnload("logging-handler");
        assertCollected(unloaded, "removed java.util.logging handler "
                + "io.capmesh.extensions.misbehaving.logginghandler.LoggingHandlerExtension$Collecting from the root "
                + "logger");
        assertThat(unloaded.getReclamation().getCleanedList()).anySatisfy(done -> assertThat(done)
                .contains("reset logger 'capmesh.test.logging-handler' from the extension's level CHATTY"));
    }

    @Test
    void theExtensionsDefaultUncaughtExceptionHandlerIsRemoved() throws Exception {
        UnloadResponse unloaded = deployAndUnload("uncaught-handler");
        assertCollected(unloaded, "removed default uncaught-exception handler "
                + "io.capmesh.extensions.misbehaving.uncaughthandler.UncaughtHandlerExtension$Reporter");
        assertThat(Thread.getDefaultUncaughtExceptionHandler()).isNull();
    }

    @Test
    void aSecurityProviderTheExtensionAddedIsRemoved() throws Exception {
        UnloadResponse unloaded = deployAndUnload("security-provider");
        assertCollected(unloaded, "removed security provider 'CapmeshTestLeaky'");
        assertThat(Security.getProvider("CapmeshTestLeaky")).isNull();
    }

    @Test
    void anMBeanTheExtensionRegisteredIsUnregistered() throws Exception {
        UnloadResponse unloaded = deployAndUnload("mbean");
        assertCollected(unloaded, "unregistered MBean io.capmesh.test:type=Counter,name=mbean");
    }

    @Test
    void resourceBundleAndBeanCachesDoNotHoldTheLoader() throws Exception {
        assertCollected(deployAndUnload("resource-bundle"), null);
        assertCollected(deployAndUnload("beans-introspector"), null);
    }

    @Test
    void aLeakNoCleanupKnowsGetsItsReferencePathFromAHeapDumpWhileCallsGoOn() throws Exception {
        start(RuntimeSettings.defaults(data).withLeakPaths(everyLeak(256L << 20)));
        runtime.deploy("capmesh-ext-echo");
        runtime.deploy("capmesh-ext-misbehaving-system-property");
        try {
            UnloadResponse unloaded = runtime.unload("system-property");
            assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.LEAKED);
            assertThat(unloaded.getReclamation().getLeakPathNote()).contains("analysing a heap dump");
            long slowest = 0;
            int calls = 0;
            Reclamation withPath;
            do { // the runtime serves while the dump is analysed; the dump's pause is the slowest call
                long start = System.nanoTime();
                assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "during"))).isEqualTo("during");
                slowest = Math.max(slowest, System.nanoTime() - start);
                calls++;
                withPath = describe("system-property").get(0);
            } while (!withPath.hasLeakPath() && withPath.getLeakPathNote().startsWith("analysing"));
            System.out.printf("leak path: %d calls served during the analysis, the slowest took %d ms; %s%n",
                    calls, slowest / 1_000_000, withPath.getLeakPathNote());
            assertThat(withPath.hasLeakPath()).as(withPath.toString()).isTrue();
            assertThat(withPath.getLeakPath().getStepsList()).extracting(LeakStep::getReference)
                    .anySatisfy(reference -> assertThat(reference).isEqualTo("static System.props"));
            assertThat(withPath.getLeakPath().getStepsList().get(withPath.getLeakPath().getStepsCount() - 1)
                    .getObject()).contains("SystemPropertyExtension$Marker");
            assertThat(withPath.getLeakPathNote()).matches("from a [0-9.]+ MB heap dump .*");
            assertThat(dumpsLeft()).isEmpty();
        } finally {
            System.getProperties().remove("capmesh.test.system-property");
        }
    }

    @Test
    void aCleanerThreadIsNamedByTheReferencePath() throws Exception {
        start(RuntimeSettings.defaults(data).withLeakPaths(everyLeak(256L << 20)));
        runtime.deploy("capmesh-ext-misbehaving-cleaner");
        // this time the unload waits for the path, so its answer carries it
        Reclamation withPath = runtime.stub().unload(UnloadRequest.newBuilder().setExtensionId("cleaner")
                .setLeakPathWaitMillis(LATE.toMillis()).build()).getReclamation();
        assertThat(withPath.getState()).isEqualTo(Reclamation.State.LEAKED);
        assertThat(withPath.getLeakPath().getStepsList()).extracting(LeakStep::getObject)
                .anySatisfy(object -> assertThat(object).contains("thread 'Cleaner-"));
        assertThat(withPath.getLeakPath().getStepsList()).extracting(LeakStep::getObject)
                .anySatisfy(object -> assertThat(object).contains("CleanerExtension$Release"));
    }

    @Test
    void aDumpOverItsCapIsNeitherAnalysedNorLeftOnDisk() throws Exception {
        start(RuntimeSettings.defaults(data).withLeakPaths(everyLeak(1L << 20)));
        runtime.deploy("capmesh-ext-misbehaving-late-thread");
        runtime.unload("late-thread");
        Reclamation told = awaitVerdict("late-thread", r -> !r.getLeakPathNote().startsWith("analysing"));
        assertThat(told.hasLeakPath()).isFalse();
        assertThat(told.getLeakPathNote()).contains("over the cap of 1.0 MB")
                .contains("capmesh.runtime.leak-paths.max-dump-size");
        assertThat(dumpsLeft()).isEmpty();
    }

    private LeakPaths.Settings everyLeak(long maxDumpBytes) {
        return new LeakPaths.Settings(LeakPaths.Mode.EVERY_LEAK, Duration.ofMinutes(1), maxDumpBytes,
                data.resolve("heap-dumps"), "512m", Duration.ofMinutes(3));
    }

    private List<Path> dumpsLeft() throws Exception {
        Path dumps = data.resolve("heap-dumps");
        if (!Files.isDirectory(dumps)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dumps)) {
            return files.toList();
        }
    }

    private void start(RuntimeSettings settings) throws Exception {
        runtime = new TestRuntime(settings);
    }

    private UnloadResponse deployAndUnload(String kase) throws Exception {
        if (runtime == null) {
            start(RuntimeSettings.defaults(data));
        }
        runtime.deploy("capmesh-ext-misbehaving-" + kase);
        return runtime.unload(kase);
    }

    private List<Reclamation> describe(String id) {
        return runtime.stub().describe(DescribeRequest.newBuilder().setExtensionId(id).build()).getUnloadedList()
                .stream().map(UnloadResponse::getReclamation).toList();
    }

    /** Waits for Describe to show the latest unload of the extension in the expected state. */
    private Reclamation awaitVerdict(String id, Predicate<Reclamation> expected) throws InterruptedException {
        long deadline = System.nanoTime() + LATE.toNanos();
        Reclamation latest = describe(id).get(0);
        while (!expected.test(latest) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            latest = describe(id).get(0);
        }
        assertThat(expected).as("the verdict of %s after %s: %s", id, LATE, latest).accepts(latest);
        return latest;
    }

    private static void assertCollected(UnloadResponse unloaded, String cleanedPart) {
        assertThat(unloaded.getReclamation().getState()).as(unloaded.toString()).isEqualTo(Reclamation.State.COLLECTED);
        if (cleanedPart != null) {
            assertThat(unloaded.getReclamation().getCleanedList()).as(unloaded.toString())
                    .anySatisfy(done -> assertThat(done).contains(cleanedPart));
        }
    }

    private static void assertNamesItsHolder(UnloadResponse unloaded) {
        assertThat(unloaded.getReclamation().getCausesList()).isNotEmpty()
                .noneSatisfy(cause -> assertThat(cause).startsWith(GENERIC));
    }
}
