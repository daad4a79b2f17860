package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.testsupport.ServiceProcess;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capmesh store} on the data directory of a real core runtime: refused while it runs, then read and changed. */
class StoreCommandIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));
    private static final String RUNTIME_JAR = JARS.resolve("capmesh-core-runtime-service.jar").toString();

    @TempDir
    Path dir;

    @Test
    void aStoppedRuntimesStoreIsListedAndAnExtensionRemovedFromIt() throws Exception {
        Path data = dir.resolve("core");
        try (ServiceProcess runtime = ServiceProcess.start(Path.of(RUNTIME_JAR), dir.resolve("core.log"),
                "--capmesh.runtime.data-dir=" + data)) {
            Cli.Run running = Cli.run("store", "remove", "core-json", "--data-dir", data.toString(),
                    "--runtime-jar", RUNTIME_JAR);
            assertThat(running.exit()).as(running.toString()).isEqualTo(ExitCode.FAILED);
            assertThat(running.err()).contains("a runtime is running on " + data, "capmesh unload");
        }

        Cli.Run listed = Cli.run("store", "list", "--data-dir", data.toString(), "--runtime-jar", RUNTIME_JAR);
        assertThat(listed.exit()).as(listed.toString()).isZero();
        assertThat(listed.out()).contains("core-compress", "core-echo", "core-json", "quarantine");

        Cli.Run removed = Cli.run("store", "remove", "core-json", "--data-dir", data.toString(),
                "--runtime-jar", RUNTIME_JAR);
        assertThat(removed.exit()).as(removed.toString()).isZero();
        assertThat(removed.out()).contains("removed core-json@1.0.0");
        assertThat(Cli.run("store", "list", "--data-dir", data.toString(), "--runtime-jar", RUNTIME_JAR).out())
                .contains("core-echo").doesNotContain("core-json");

        Cli.Run unknown = Cli.run("store", "remove", "nope", "--data-dir", data.toString(),
                "--runtime-jar", RUNTIME_JAR);
        assertThat(unknown.exit()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(unknown.err()).contains("no extension nope in the store", "core-compress, core-echo");
        Cli.Run nowhere = Cli.run("store", "list", "--data-dir", dir.resolve("nothing").toString(),
                "--runtime-jar", RUNTIME_JAR);
        assertThat(nowhere.exit()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(nowhere.err()).contains("holds no extension store");
    }
}
