package io.capmesh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The store of a runtime that is stopped, read and changed with the runtime's own code: any runtime service jar
 * runs {@code io.capmesh.runtime.store.StoreTool}.
 */
@Command(name = "store", header = "List or change the store of a stopped runtime.",
        description = "For a runtime that cannot start with what its store holds: list what it would restore, or"
                + " remove one extension so that it does not. The runtime must be stopped (a running one is refused;"
                + " capmesh unload removes an extension from it). To start a runtime without restoring anything,"
                + " set capmesh.runtime.recovery.safe-mode=true instead.",
        subcommands = {StoreCommand.ListStored.class, StoreCommand.Remove.class})
final class StoreCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw CliFailure.usage("name what to do: capmesh store list --data-dir DIR, or capmesh store remove ID"
                + " --data-dir DIR");
    }

    /** Where the store is, and which runtime jar reads it. */
    static final class StoreTarget {

        @Option(names = "--data-dir", required = true, paramLabel = "DIR",
                description = "The runtime's data directory (capmesh.runtime.data-dir; in a local mesh,"
                        + " .capmesh/mesh/core-runtime and so on).")
        Path dataDir;

        @Option(names = "--runtime-jar", paramLabel = "JAR", description = "A runtime service jar (default: the"
                + " core runtime's, built in this repository).")
        Path jar;

        int run(java.io.PrintWriter out, String... toolArgs) {
            Path runtimeJar = jar != null ? jar : Path.of(System.getProperty("capmesh.home", ""))
                    .resolve("core-runtime-service/target/capmesh-core-runtime-service.jar");
            if (!Files.isRegularFile(runtimeJar)) {
                throw CliFailure.failed("missing " + runtimeJar.toAbsolutePath() + ": " + LocalMesh.BUILD_FIRST
                        + " (or name a runtime service jar with --runtime-jar)");
            }
            List<String> line = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                            .toString(), "-Dloader.main=io.capmesh.runtime.store.StoreTool", "-cp",
                    runtimeJar.toString(), "org.springframework.boot.loader.launch.PropertiesLauncher"));
            line.addAll(List.of(toolArgs));
            try {
                Process tool = new ProcessBuilder(line).redirectInput(ProcessBuilder.Redirect.PIPE).start();
                tool.getOutputStream().close();
                String printed = new String(tool.getInputStream().readAllBytes());
                String err = new String(tool.getErrorStream().readAllBytes());
                int exit = tool.waitFor();
                out.print(printed);
                out.flush();
                if (exit != 0) {
                    throw exit == ExitCode.NOT_FOUND ? CliFailure.notFound(err.strip())
                            : exit == ExitCode.USAGE ? CliFailure.usage(err.strip()) : CliFailure.failed(err.strip());
                }
                return ExitCode.OK;
            } catch (IOException e) {
                throw CliFailure.failed("cannot run " + runtimeJar + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw CliFailure.failed("interrupted");
            }
        }
    }

    @Command(name = "list", header = "List what a stopped runtime's store holds, and what it keeps quarantined.")
    static final class ListStored implements Callable<Integer> {

        @Mixin
        private StoreTarget target;

        @Spec
        private CommandSpec spec;

        @Override
        public Integer call() {
            return target.run(spec.commandLine().getOut(), "list", target.dataDir.toString());
        }
    }

    @Command(name = "remove", header = "Remove one extension from a stopped runtime's store.",
            description = "The runtime will not restore it at its next start (a version bundled with the runtime"
                    + " loads instead, if there is one).")
    static final class Remove implements Callable<Integer> {

        @Mixin
        private StoreTarget target;

        @Spec
        private CommandSpec spec;

        @Parameters(index = "0", paramLabel = "ID", description = "The extension's id.")
        private String id;

        @Override
        public Integer call() {
            return target.run(spec.commandLine().getOut(), "remove", target.dataDir.toString(), id);
        }
    }
}
