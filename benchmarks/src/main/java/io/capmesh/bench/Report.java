package io.capmesh.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Everything one run measured: the tables in order, the distributions to chart, and where it ran. */
final class Report {

    static final String MARKDOWN = "report.md";
    static final String CHART = "latency.svg";

    private final Environment environment;
    private final Mode mode;
    private final List<Table> tables = new ArrayList<>();
    private final Map<String, Latency> charted = new LinkedHashMap<>();
    private final List<String> notes = new ArrayList<>();

    Report(Environment environment, Mode mode) {
        this.environment = environment;
        this.mode = mode;
    }

    synchronized void add(Table table) {
        tables.add(table);
    }

    /** Puts a table before every other. */
    synchronized void lead(Table table) {
        tables.add(0, table);
    }

    synchronized void chart(String path, Latency latency) {
        if (latency != null && latency.calls() > 0) {
            charted.put(path, latency);
        }
    }

    /** A sentence under the environment: what was skipped and why, for instance. */
    synchronized void note(String note) {
        notes.add(note);
    }

    synchronized List<Table> tables() {
        return List.copyOf(tables);
    }

    synchronized Map<String, Latency> charted() {
        return Map.copyOf(charted);
    }

    void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(MARKDOWN), markdown(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(CHART), new LatencyChart(new LinkedHashMap<>(charted)).svg(),
                StandardCharsets.UTF_8);
    }

    synchronized String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# capmesh benchmarks (").append(mode.name().toLowerCase()).append(" run)\n\n");
        md.append("| | |\n|---|---|\n");
        md.append("| command | `").append(environment.command()).append("` |\n");
        md.append("| when | ").append(environment.when()).append(" |\n");
        md.append("| commit | ").append(environment.commit()).append(" |\n");
        md.append("| machine | ").append(environment.cpu()).append(", ").append(environment.cores())
                .append(" cores, ").append(environment.memoryBytes() >> 30).append(" GB, ")
                .append(environment.os()).append(" |\n");
        md.append("| thread handoff | ").append(environment.handoff().describe()).append(" |\n");
        md.append("| JDK | ").append(environment.jdk()).append(" `").append(environment.jvmFlags()).append("` |\n");
        md.append("| budget | ").append(mode.describe()).append(" |\n\n");
        md.append("Latencies in microseconds unless a column says otherwise; every ratio is to a baseline measured in "
                + "this same run. The machine is shared, so single figures are noisy: compare the ratios.\n\n");
        for (String note : notes) {
            md.append("- ").append(note).append('\n');
        }
        if (!notes.isEmpty()) {
            md.append('\n');
        }
        if (!charted.isEmpty()) {
            md.append("![latency distribution per call path](").append(CHART).append(")\n\n");
        }
        for (Table table : tables) {
            md.append(markdown(table, "##"));
        }
        return md.toString();
    }

    static String markdown(Table table, String heading) {
        StringBuilder md = new StringBuilder();
        md.append(heading).append(' ').append(table.title()).append("\n\n");
        if (!table.note().isEmpty()) {
            md.append(table.note()).append("\n\n");
        }
        md.append("| ").append(String.join(" | ", table.columns())).append(" |\n");
        md.append("|").append("---|".repeat(table.columns().size())).append('\n');
        for (List<String> row : table.rows()) {
            md.append("| ").append(String.join(" | ", row.stream().map(c -> c.replace("|", "\\|")).toList()))
                    .append(" |\n");
        }
        return md.append('\n').toString();
    }
}
