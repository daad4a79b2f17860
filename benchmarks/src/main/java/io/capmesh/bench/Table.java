package io.capmesh.bench;

import java.util.ArrayList;
import java.util.List;

/** One table of the report: a title, a sentence on what it shows, a header row and rows of text cells. */
public final class Table {

    private final String title;
    private final String note;
    private final List<String> columns;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String title, String note, String... columns) {
        this.title = title;
        this.note = note;
        this.columns = List.of(columns);
    }

    public Table row(Object... cells) {
        if (cells.length != columns.size()) {
            throw new IllegalArgumentException(title + ": " + cells.length + " cells for " + columns.size()
                    + " columns");
        }
        List<String> row = new ArrayList<>();
        for (Object cell : cells) {
            row.add(String.valueOf(cell));
        }
        rows.add(List.copyOf(row));
        return this;
    }

    public String title() {
        return title;
    }

    public String note() {
        return note;
    }

    public List<String> columns() {
        return columns;
    }

    public List<List<String>> rows() {
        return List.copyOf(rows);
    }

    // ---- cell formats, shared by every section -------------------------------------------------------------

    /** Nanoseconds as microseconds, with as many digits as the size needs. */
    static String micros(double nanos) {
        if (Double.isNaN(nanos)) {
            return "-";
        }
        double us = nanos / 1_000;
        if (us < 0.1) {
            return String.format("%.4f", us);
        }
        if (us < 10) {
            return String.format("%.2f", us);
        }
        return String.format("%.0f", us);
    }

    static String millis(double millis) {
        return Double.isNaN(millis) ? "-" : millis < 10 ? String.format("%.2f", millis) : String.format("%.0f", millis);
    }

    /** {@code value / baseline} as "1.23x", or "-" when either is missing. */
    static String ratio(double value, double baseline) {
        if (Double.isNaN(value) || Double.isNaN(baseline) || baseline <= 0) {
            return "-";
        }
        double r = value / baseline;
        return r < 10 ? String.format("%.2fx", r) : String.format("%.0fx", r);
    }

    static String rate(double perSecond) {
        if (Double.isNaN(perSecond)) {
            return "-";
        }
        return perSecond >= 1e6 ? String.format("%.1fM", perSecond / 1e6)
                : perSecond >= 1e4 ? String.format("%.1fk", perSecond / 1e3) : String.format("%.0f", perSecond);
    }

    static String mb(double bytes) {
        return String.format("%.2f", bytes / (1024 * 1024));
    }
}
