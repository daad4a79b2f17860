package io.capmesh.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The call-path figures of a run, gathered from every section and laid out as one table at the end, each next
 * to its baseline from the same run.
 */
final class CallPaths {

    /**
     * @param key      short name other rows use as their baseline
     * @param label    what the path is
     * @param how      how it was measured
     * @param baseline key of the row it is compared with, or null for a floor
     */
    record Figure(String key, String label, String how, Latency latency, String baseline, Double meanNanos) {
    }

    private final Map<String, Figure> figures = new LinkedHashMap<>();
    private final List<String> skipped = new ArrayList<>();

    synchronized void add(String key, String label, String how, Latency latency, String baseline) {
        figures.put(key, new Figure(key, label, how, latency, baseline, null));
    }

    synchronized void add(Figure figure) {
        figures.put(figure.key(), figure);
    }

    synchronized void skipped(String label, String why) {
        skipped.add(label + ": " + why);
    }

    synchronized Latency latency(String key) {
        Figure figure = figures.get(key);
        return figure == null ? null : figure.latency();
    }

    synchronized Table table() {
        Table table = new Table("Call paths",
                "core.echo with a 100-byte payload unless named otherwise; JMH sample-time percentiles in process "
                        + "(the mean from JMH's average-time mode in full runs, from the samples otherwise), our load generator across processes (closed loop: one "
                        + "call outstanding per caller; open loop: fixed rate, latency from when each call was due). "
                        + "Ratios are p50 and p99 against the baseline row of this run."
                        + (skipped.isEmpty() ? "" : " Not measured: " + String.join("; ", skipped) + "."),
                "path", "how", "p50", "p90", "p99", "p99.9", "mean", "calls/s", "failed", "p50 ratio", "p99 ratio",
                "baseline");
        for (Figure figure : figures.values()) {
            Latency l = figure.latency();
            Figure base = figure.baseline() == null ? null : figures.get(figure.baseline());
            Latency b = base == null ? null : base.latency();
            double mean = figure.meanNanos() != null ? figure.meanNanos() : Double.NaN;
            table.row(figure.label(), figure.how(), Table.micros(l.p50()), Table.micros(l.p90()),
                    Table.micros(l.p99()), Table.micros(l.p999()), Table.micros(mean), Table.rate(l.callsPerSecond()),
                    l.failed(), b == null ? "-" : Table.ratio(l.p50(), b.p50()),
                    b == null ? "-" : Table.ratio(l.p99(), b.p99()), base == null ? "(floor)" : base.label());
        }
        return table;
    }

    synchronized void chart(Report report) {
        figures.values().forEach(f -> report.chart(f.label(), f.latency()));
    }
}
