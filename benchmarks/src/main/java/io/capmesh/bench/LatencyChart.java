package io.capmesh.bench;

import java.util.Locale;
import java.util.Map;

/**
 * The latency distribution of every call path in one SVG: percentiles on a log scale of {@code 1/(1-p)} across
 * (so the tail gets room, as HdrHistogram's plots do) and latency on a log scale up, one line per path.
 */
final class LatencyChart {

    private static final String[] COLOURS = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
        "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#843c39"};
    private static final int WIDTH = 1280; // room for the legend's long path names
    private static final int HEIGHT = 540;
    private static final int LEFT = 70;
    private static final int TOP = 40;
    private static final int PLOT_WIDTH = 600;
    private static final int PLOT_HEIGHT = 440;
    /** 99.999 %: the last percentile with a tick; the maximum is drawn just past it. */
    private static final double X_MAX = 5.3;

    private final Map<String, Latency> paths;

    LatencyChart(Map<String, Latency> paths) {
        this.paths = paths;
    }

    String svg() {
        double low = Double.MAX_VALUE;
        double high = 0;
        for (Latency latency : paths.values()) {
            for (double[] point : latency.curve()) {
                if (point[1] > 0) {
                    low = Math.min(low, point[1]);
                    high = Math.max(high, point[1]);
                }
            }
        }
        if (high == 0) {
            low = 1;
            high = 10;
        }
        int lowDecade = (int) Math.floor(Math.log10(low));
        int highDecade = Math.max(lowDecade + 1, (int) Math.ceil(Math.log10(high)));

        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                + "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", WIDTH, HEIGHT, WIDTH, HEIGHT));
        svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"22\" font-size=\"15\">Latency by percentile, "
                + "per call path (log scales)</text>%n", LEFT));
        // vertical grid: percentiles
        String[] labels = {"0%", "90%", "99%", "99.9%", "99.99%", "99.999%"};
        for (int i = 0; i < labels.length; i++) {
            double x = x(i);
            svg.append(line(x, TOP, x, TOP + PLOT_HEIGHT, "#ddd"));
            svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", x,
                    TOP + PLOT_HEIGHT + 18, labels[i]));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">max</text>%n",
                x(X_MAX), TOP + PLOT_HEIGHT + 18));
        svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">percentile</text>%n",
                LEFT + PLOT_WIDTH / 2, TOP + PLOT_HEIGHT + 36));
        // horizontal grid: decades of latency
        for (int decade = lowDecade; decade <= highDecade; decade++) {
            double y = y(decade, lowDecade, highDecade);
            svg.append(line(LEFT, y, LEFT + PLOT_WIDTH, y, "#ddd"));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>%n",
                    LEFT - 6, y + 4, duration(Math.pow(10, decade))));
        }
        svg.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                + "stroke=\"#888\"/>%n", LEFT, TOP, PLOT_WIDTH, PLOT_HEIGHT));

        int index = 0;
        for (Map.Entry<String, Latency> path : paths.entrySet()) {
            String colour = COLOURS[index % COLOURS.length];
            StringBuilder points = new StringBuilder();
            for (double[] point : path.getValue().curve()) {
                if (point[1] <= 0) {
                    continue;
                }
                double px = point[0] >= 100 ? x(X_MAX) : x(Math.log10(100 / (100 - point[0])));
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", px,
                        y(Math.log10(point[1]), lowDecade, highDecade)));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
                    + "points=\"%s\"/>%n", colour, points.toString().trim()));
            double ly = TOP + 10 + index * 20;
            svg.append(line(LEFT + PLOT_WIDTH + 20, ly, LEFT + PLOT_WIDTH + 44, ly, colour));
            svg.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\">%s</text>%n", LEFT + PLOT_WIDTH + 50,
                    ly + 4, escape(path.getKey())));
            index++;
        }
        return svg.append("</svg>\n").toString();
    }

    private static double x(double decades) {
        return LEFT + decades / X_MAX * PLOT_WIDTH;
    }

    private static double y(double log10Nanos, int lowDecade, int highDecade) {
        return TOP + PLOT_HEIGHT - (log10Nanos - lowDecade) / (highDecade - lowDecade) * PLOT_HEIGHT;
    }

    private static String line(double x1, double y1, double x2, double y2, String colour) {
        return String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                x1, y1, x2, y2, colour);
    }

    private static String duration(double nanos) {
        if (nanos < 1_000) {
            return (long) nanos + " ns";
        }
        if (nanos < 1_000_000) {
            return (long) (nanos / 1_000) + " us";
        }
        if (nanos < 1_000_000_000) {
            return (long) (nanos / 1_000_000) + " ms";
        }
        return (long) (nanos / 1_000_000_000) + " s";
    }

    private static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
