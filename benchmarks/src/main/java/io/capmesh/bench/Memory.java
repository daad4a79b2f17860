package io.capmesh.bench;

import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@link MemoryProbe} in a JVM of its own and tabulates heap and metaspace per loaded extension. */
final class Memory {

    private Memory() {
    }

    static String run(Mode mode, Report report, Targets targets) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-XX:+UseG1GC", "-Xmx1g"));
        // the exit guard this JVM runs with, as every runtime does
        ManagementFactory.getRuntimeMXBean().getInputArguments().stream().filter(a -> a.startsWith("-javaagent:"))
                .forEach(command::add);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), MemoryProbe.class.getName()));
        mode.loadedCounts().forEach(count -> command.add(String.valueOf(count)));
        Process probe = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!probe.waitFor(5, TimeUnit.MINUTES) || probe.exitValue() != 0) {
            throw new IllegalStateException("the memory probe failed: " + output);
        }
        Table table = new Table("Memory with small extensions loaded",
                "A runtime host in a JVM of its own (G1, full collection before each reading) with N copies of the "
                        + "echo extension loaded, each under its own id and called once. Per extension is the growth "
                        + "over none loaded, divided by N.",
                "loaded", "heap used MB", "metaspace MB", "heap per extension MB", "metaspace per extension MB");
        long baseHeap = -1;
        long baseMeta = -1;
        String summary = "";
        for (String line : output.lines().toList()) {
            String[] fields = line.trim().split(" ");
            if (fields.length != 3 || !fields[0].chars().allMatch(Character::isDigit)) {
                continue;
            }
            int loaded = Integer.parseInt(fields[0]);
            long heap = Long.parseLong(fields[1]);
            long meta = Long.parseLong(fields[2]);
            if (loaded == 0) {
                baseHeap = heap;
                baseMeta = meta;
            }
            boolean hasBase = baseHeap >= 0 && loaded > 0;
            double heapPer = hasBase ? (heap - baseHeap) / (double) loaded : Double.NaN;
            double metaPer = hasBase ? (meta - baseMeta) / (double) loaded : Double.NaN;
            table.row(loaded, Table.mb(heap), Table.mb(meta), hasBase ? Table.mb(heapPer) : "-",
                    hasBase ? Table.mb(metaPer) : "-");
            if (hasBase) {
                summary = String.format("%d loaded: %.3f MB heap, %.3f MB metaspace each", loaded,
                        heapPer / (1 << 20), metaPer / (1 << 20));
                targets.measured(Targets.Goal.HEAP, String.format("%.3f MB heap + %.3f MB metaspace (%d loaded)",
                        heapPer / (1 << 20), metaPer / (1 << 20), loaded), heapPer <= 0.5 * (1 << 20));
            }
        }
        report.add(table);
        return summary;
    }
}
