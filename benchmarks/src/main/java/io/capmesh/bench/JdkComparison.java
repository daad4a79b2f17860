package io.capmesh.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * JDK 17 against the newest JDK installed, in the same run: the hop, unload until collected and the swap under the
 * mode's highest concurrency, each JDK's figures taken by {@link JdkProbe} in a JVM of that JDK with the runtime's
 * flags, in turns (17 then the newest, then the newest then 17, ...), so that a change in the machine's load falls on
 * both alike.
 */
final class JdkComparison {

    private static final long PROBE_TIMEOUT_MINUTES = 15;

    private final Mode mode;
    private final Services services;
    private final Path dir;
    private final Report report;

    JdkComparison(Mode mode, Services services, Path out, Report report) {
        this.mode = mode;
        this.services = services;
        this.dir = out.resolve("jdk-comparison");
        this.report = report;
    }

    String run() throws Exception {
        Path repository = services.repository();
        if (repository == null) {
            throw new IllegalStateException("the JDKs are picked by the repository's bin/java-home, and no repository "
                    + "holds the bench jar");
        }
        List<PreparedStart.Jdk> jdks = PreparedStart.Jdk.seventeenAndNewest(repository);
        PreparedStart.Jdk newest = jdks.get(jdks.size() - 1);
        if (jdks.size() == 1) {
            report.note("JDK comparison: this machine has JDK " + newest.major() + " only; nothing to compare.");
            return "JDK " + newest.major() + " only";
        }
        Files.createDirectories(dir);
        Map<PreparedStart.Jdk, Map<String, List<double[]>>> figures = new LinkedHashMap<>();
        jdks.forEach(jdk -> figures.put(jdk, new HashMap<>()));
        int rounds = mode.jdkRounds();
        for (int round = 0; round < rounds; round++) {
            List<PreparedStart.Jdk> order = new ArrayList<>(jdks);
            if (round % 2 == 1) {
                Collections.reverse(order);
            }
            for (PreparedStart.Jdk jdk : order) {
                probe(jdk, round).forEach((name, values) ->
                        figures.get(jdk).computeIfAbsent(name, n -> new ArrayList<>()).add(values));
            }
        }

        Table table = new Table("JDK 17 against JDK " + newest.major(),
                "Each JDK in a JVM of its own with the runtime's flags, " + rounds + " round(s) in turns, medians of "
                        + "the rounds (counts are their sums): the runtime's Invoke over loopback gRPC (client and "
                        + "server in that JVM, one caller, warm); the small extension's unload until collected over "
                        + mode.lifecycleRuns().get(Lifecycle.Size.SMALL.ordinal()) + " cycles after as many untimed; "
                        + mode.swapsPerLevel() + " swap(s) under " + highestConcurrency() + " concurrent calls. The "
                        + "last row is the newest JDK's figure over JDK 17's.",
                "JDK", "hop p50 us", "hop p99 us", "unload p50 ms", "unload p99 ms", "leaked", "full GCs",
                "calls in the swap runs", "failed", "served by two versions", "swap p50 ms", "call p99 during swap ms");
        for (PreparedStart.Jdk jdk : jdks) {
            Map<String, List<double[]>> of = figures.get(jdk);
            table.row(jdk.major(), Table.micros(median(of, "hop", 0)), Table.micros(median(of, "hop", 1)),
                    Table.millis(median(of, "unload", 0)), Table.millis(median(of, "unload", 1)),
                    (long) sum(of, "unload", 2), (long) sum(of, "unload", 3), (long) sum(of, "swap", 0),
                    (long) sum(of, "swap", 1), (long) sum(of, "swap", 2), Table.millis(median(of, "swap", 3)),
                    Table.millis(median(of, "swap", 4)));
        }
        Map<String, List<double[]>> old = figures.get(jdks.get(0));
        Map<String, List<double[]>> now = figures.get(newest);
        table.row(newest.major() + " / 17", ratio(now, old, "hop", 0), ratio(now, old, "hop", 1),
                ratio(now, old, "unload", 0), ratio(now, old, "unload", 1), "-", "-", "-", "-", "-",
                ratio(now, old, "swap", 3), ratio(now, old, "swap", 4));
        report.add(table);
        return String.format("JDK %d / 17: hop p50 %s, unload p50 %s, swap p50 %s; failed during swaps %d and %d",
                newest.major(), ratio(now, old, "hop", 0), ratio(now, old, "unload", 0), ratio(now, old, "swap", 3),
                (long) sum(old, "swap", 1), (long) sum(now, "swap", 1));
    }

    /** One probe JVM on {@code jdk}: its figures by name; fails with its log's end when it did not finish. */
    private Map<String, double[]> probe(PreparedStart.Jdk jdk, int round) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(jdk.home().resolve("bin").resolve("java").toString());
        command.addAll(Bench.RUNTIME_JVM_FLAGS);
        // the exit guard every runtime starts with, as the suite's own JVM has it
        services.jar("exit-guard").ifPresent(agent -> command.add("-javaagent:" + agent));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), JdkProbe.class.getName(), mode.name()));
        Path log = dir.resolve("jdk" + jdk.major() + "-round" + round + ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            if (!process.waitFor(PROBE_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                throw new IllegalStateException("the JDK " + jdk.major() + " probe did not finish within "
                        + PROBE_TIMEOUT_MINUTES + " min; see " + log);
            }
        } finally {
            if (process.isAlive()) { // it must not run on into the next step's measurements
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
        // the log holds whatever the JVM and the runtime printed too: only the probe's own lines count
        List<String> lines = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
        Map<String, double[]> figures = new HashMap<>();
        for (String line : lines) {
            String[] parts = line.split(" ");
            if (parts.length > 2 && parts[0].equals(JdkProbe.PREFIX)) {
                try {
                    figures.put(parts[1], Arrays.stream(parts, 2, parts.length).mapToDouble(Double::parseDouble)
                            .toArray());
                } catch (NumberFormatException e) {
                    throw new IllegalStateException("the JDK " + jdk.major() + " probe printed '" + line + "' ("
                            + log + ")", e);
                }
            }
        }
        if (process.exitValue() != 0 || !figures.keySet().equals(Set.of("hop", "unload", "swap"))) {
            throw new IllegalStateException("the JDK " + jdk.major() + " probe ended with " + process.exitValue()
                    + " and " + figures.keySet() + " measured: "
                    + String.join(" / ", lines.subList(Math.max(0, lines.size() - 5), lines.size())) + " (" + log
                    + ")");
        }
        return figures;
    }

    private int highestConcurrency() {
        return mode.swapConcurrency().get(mode.swapConcurrency().size() - 1);
    }

    private static double median(Map<String, List<double[]>> figures, String name, int index) {
        double[] values = figures.get(name).stream().mapToDouble(v -> v[index]).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static double sum(Map<String, List<double[]>> figures, String name, int index) {
        return figures.get(name).stream().mapToDouble(v -> v[index]).sum();
    }

    private static String ratio(Map<String, List<double[]>> now, Map<String, List<double[]>> old, String name,
                                int index) {
        return Table.ratio(median(now, name, index), median(old, name, index));
    }
}
