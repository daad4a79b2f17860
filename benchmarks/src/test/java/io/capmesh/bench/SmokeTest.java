package io.capmesh.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;

/**
 * Runs the whole suite in smoke mode, which keeps the harness working: every step runs, the report has
 * well-formed tables and the chart is an SVG with a line per call path. No timing is asserted.
 */
class SmokeTest {

    @TempDir
    Path out;

    @Test
    void smokeRunWritesWellFormedTablesAndAChart() throws Exception {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        int exit = Bench.run(new PrintStream(progress, true, StandardCharsets.UTF_8), "--mode", "smoke", "--out",
                out.toString());
        String shown = progress.toString(StandardCharsets.UTF_8);
        System.out.print(shown);
        String errors = Files.exists(out.resolve("errors.log")) ? Files.readString(out.resolve("errors.log")) : "";
        assertThat(exit).as("every step ran; progress:%n%s%nerrors:%n%s", shown, errors).isZero();
        assertThat(shown).contains("[ 1/").contains("done in");

        String report = Files.readString(out.resolve(Report.MARKDOWN));
        assertThat(report).contains("| command |", "| commit |", "| machine |", "| thread handoff |", "| JDK |",
                "## Call paths",
                "## Targets of DESIGN.md", "![latency distribution per call path](" + Report.CHART + ")");
        assertTablesAreWellFormed(report);

        Document svg = DocumentBuilderFactory.newInstance().newDocumentBuilder()
                .parse(out.resolve(Report.CHART).toFile());
        assertThat(svg.getDocumentElement().getNodeName()).isEqualTo("svg");
        assertThat(svg.getElementsByTagName("polyline").getLength()).isGreaterThanOrEqualTo(4);
    }

    /** Every table row has as many cells as its header, and a header is followed by its separator. */
    private static void assertTablesAreWellFormed(String markdown) {
        List<String> lines = markdown.lines().toList();
        int tables = 0;
        for (int i = 0; i < lines.size(); i++) {
            if (!lines.get(i).startsWith("|") || (i > 0 && lines.get(i - 1).startsWith("|"))) {
                continue;
            }
            tables++;
            int columns = cells(lines.get(i));
            assertThat(lines.get(i + 1)).as("separator under %s", lines.get(i)).matches("\\|(---\\|)+");
            assertThat(cells(lines.get(i + 1))).isEqualTo(columns);
            for (int j = i + 2; j < lines.size() && lines.get(j).startsWith("|"); j++) {
                assertThat(cells(lines.get(j))).as("cells in %s", lines.get(j)).isEqualTo(columns);
                assertThat(lines.get(j)).doesNotContain("NaN");
            }
        }
        assertThat(tables).isGreaterThanOrEqualTo(3);
    }

    private static int cells(String row) {
        return row.replace("\\|", "").split("\\|", -1).length - 2;
    }
}
