package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadResponse;
import java.lang.management.ClassLoadingMXBean;
import java.lang.management.ManagementFactory;
import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.nio.file.Path;
import java.util.List;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading and unloading the same extension many times leaves nothing behind. */
class LoadUnloadCyclesTest {

    private static final int WARM_UP = 20;
    private static final int CYCLES = 200;

    @TempDir
    Path data;

    @Test
    void twoHundredCyclesReturnClassCountAndMetaspaceToTheirBaseline() throws Exception {
        ClassLoadingMXBean classes = ManagementFactory.getClassLoadingMXBean();
        try (TestRuntime runtime = TestRuntime.in(data)) {
            byte[] echo = TestExtensions.bytes("capmesh-ext-echo");
            for (int i = 0; i < WARM_UP; i++) {
                cycle(runtime, echo, i);
            }
            // other tests in this JVM may have left leaked loaders behind on purpose: count relative to them
            int loadersBefore = extensionLoadersInMetaspace().size();
            runtime.deploy(echo);
            assertThat(extensionLoadersInMetaspace()).as("a loaded extension shows in the statistics")
                    .hasSize(loadersBefore + 1);
            runtime.unload("core-echo");
            settle();
            long baselineClasses = classes.getLoadedClassCount();
            long baselineMetaspace = metaspaceUsed();
            long unloadedBefore = classes.getUnloadedClassCount();

            for (int i = 0; i < CYCLES; i++) {
                assertThat(cycle(runtime, echo, i).getReclamation().getState())
                        .as("cycle %d", i).isEqualTo(Reclamation.State.COLLECTED);
            }
            settle();

            assertThat(classes.getUnloadedClassCount() - unloadedBefore)
                    .as("classes unloaded").isGreaterThanOrEqualTo(CYCLES);
            // A leaked loader keeps at least two classes (its entry class and the runtime's JDBC helper), so 200
            // leaks would add 400; what little remains is the host itself warming up (lambda forms, linked calls).
            long classGrowth = classes.getLoadedClassCount() - baselineClasses;
            assertThat(classGrowth).as("growth of the loaded class count").isLessThan(CYCLES / 2);
            // The JVM's own account of metaspace per classloader: no extension loader is left holding any.
            assertThat(extensionLoadersInMetaspace()).as("extension classloaders still in metaspace")
                    .hasSize(loadersBefore);
            System.out.printf("after %d cycles: loaded classes %+d, metaspace %+d bytes in all%n", CYCLES,
                    classGrowth, metaspaceUsed() - baselineMetaspace);
        }
    }

    private static UnloadResponse cycle(TestRuntime runtime, byte[] echo, int i) {
        runtime.deploy(echo);
        assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "cycle " + i))).isEqualTo("cycle " + i);
        return runtime.unload("core-echo");
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
    }

    /** Lines of the JVM's classloader statistics (jcmd VM.classloader_stats) for extension loaders. */
    private static List<String> extensionLoadersInMetaspace() throws Exception {
        String stats = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "vmClassloaderStats",
                new Object[] {null}, new String[] {String[].class.getName()});
        return stats.lines().filter(line -> line.contains(ExtensionClassLoader.class.getName())).toList();
    }

    private static long metaspaceUsed() {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getName().equals("Metaspace"))
                .mapToLong(pool -> pool.getUsage().getUsed()).sum();
    }
}
