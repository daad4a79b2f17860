package io.capmesh.telemetry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A finished trace as a tree: each span under its parent, children in start order. A span whose parent is not
 * among the spans (not exported yet, or lost) is shown as a root, so nothing is hidden.
 */
public final class TraceTree {

    /** A span and its children. */
    public record Node(SpanRecord span, List<Node> children) {
    }

    private final String traceId;
    private final List<Node> roots;
    private final int size;

    private TraceTree(String traceId, List<Node> roots, int size) {
        this.traceId = traceId;
        this.roots = roots;
        this.size = size;
    }

    public static TraceTree of(String traceId, List<SpanRecord> spans) {
        Set<String> ids = new HashSet<>();
        spans.forEach(s -> ids.add(s.spanId()));
        Map<String, List<SpanRecord>> byParent = new HashMap<>();
        List<SpanRecord> rootSpans = new ArrayList<>();
        for (SpanRecord span : spans) {
            if (ids.contains(span.parentSpanId())) {
                byParent.computeIfAbsent(span.parentSpanId(), p -> new ArrayList<>()).add(span);
            } else {
                rootSpans.add(span);
            }
        }
        return new TraceTree(traceId, nodes(rootSpans, byParent), spans.size());
    }

    private static List<Node> nodes(List<SpanRecord> spans, Map<String, List<SpanRecord>> byParent) {
        return spans.stream().sorted(Comparator.comparingLong(SpanRecord::start))
                .map(s -> new Node(s, nodes(byParent.getOrDefault(s.spanId(), List.of()), byParent))).toList();
    }

    public String traceId() {
        return traceId;
    }

    public List<Node> roots() {
        return roots;
    }

    public int size() {
        return size;
    }

    /**
     * The tree as text, one span per line: the tree drawing and the span's name, its service, its duration and
     * the attributes worth reading ({@code capmesh.*}).
     */
    public String render() {
        List<String[]> rows = new ArrayList<>();
        for (int i = 0; i < roots.size(); i++) {
            render(roots.get(i), "", "", rows);
        }
        int nameWidth = rows.stream().mapToInt(r -> r[0].length()).max().orElse(0);
        int serviceWidth = rows.stream().mapToInt(r -> r[1].length()).max().orElse(0);
        StringBuilder out = new StringBuilder("trace ").append(traceId).append(" (").append(size)
                .append(size == 1 ? " span)\n" : " spans)\n");
        for (String[] row : rows) {
            out.append(String.format(Locale.ROOT, "%-" + nameWidth + "s  %-" + serviceWidth + "s  %10s%s%n",
                    row[0], row[1], row[2], row[3]));
        }
        return out.toString();
    }

    private static void render(Node node, String lead, String childLead, List<String[]> rows) {
        SpanRecord span = node.span();
        StringBuilder notes = new StringBuilder();
        span.attributes().forEach((key, value) -> {
            if (key.startsWith("capmesh.")) {
                notes.append("  ").append(key.substring("capmesh.".length())).append('=').append(value);
            }
        });
        if ("ERROR".equals(span.status())) {
            notes.append("  ERROR");
        }
        rows.add(new String[] {lead + span.name(), span.service(), millis(span), notes.toString()});
        for (int i = 0; i < node.children().size(); i++) {
            boolean last = i == node.children().size() - 1;
            render(node.children().get(i), childLead + (last ? "└─ " : "├─ "), childLead + (last ? "   " : "│  "),
                    rows);
        }
    }

    private static String millis(SpanRecord span) {
        return String.format(Locale.ROOT, "%.2f ms", (span.end() - span.start()) / 1e6);
    }
}
