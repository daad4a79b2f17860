package io.capmesh.cli;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs {@code capmesh} in this JVM as a user would run it, capturing what it prints. */
final class Cli {

    /** What one command printed and how it exited. */
    record Run(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private Cli() {
    }

    static Run run(String... args) {
        return withStdin("", args);
    }

    static Run withStdin(String stdin, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = CapmeshCommand.commandLine(
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        int exit = command.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    /** A command running in the background, its output readable while it prints. */
    record Background(StringWriter out, StringWriter err, java.util.concurrent.Future<Integer> exit) {
    }

    static Background start(java.util.concurrent.ExecutorService executor, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine command = CapmeshCommand.commandLine(new ByteArrayInputStream(new byte[0]));
        command.setOut(new PrintWriter(out, true));
        command.setErr(new PrintWriter(err, true));
        return new Background(out, err, executor.submit(() -> command.execute(args)));
    }
}
