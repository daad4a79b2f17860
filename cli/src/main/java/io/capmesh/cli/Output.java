package io.capmesh.cli;

import com.google.gson.JsonElement;
import java.io.PrintWriter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Where a command writes: aligned tables for people, or with {@code --json} one JSON document (or, for streams,
 * one per line) for scripts. Progress notes go to stderr, so stdout stays clean for either.
 */
public final class Output {

    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = "--json", description = "Print machine-readable JSON instead of tables.")
    private boolean json;

    public boolean json() {
        return json;
    }

    public PrintWriter out() {
        return command.commandLine().getOut();
    }

    public PrintWriter err() {
        return command.commandLine().getErr();
    }

    /** A line for people; nothing with --json. */
    public void say(String line) {
        if (!json) {
            out().println(line);
            out().flush();
        }
    }

    /** A progress note on stderr, for people watching; nothing with --json. */
    public void note(String line) {
        if (!json) {
            err().println(line);
            err().flush();
        }
    }

    void table(Table table) {
        table.print(out());
    }

    public void json(Object value) {
        out().println(value instanceof JsonElement element ? Json.PRETTY.toJson(element) : Json.PRETTY.toJson(value));
        out().flush();
    }

    /** One JSON value on one line, for streams. */
    public void jsonLine(Object value) {
        out().println(value instanceof JsonElement element ? Json.LINE.toJson(element) : Json.LINE.toJson(value));
        out().flush();
    }
}
