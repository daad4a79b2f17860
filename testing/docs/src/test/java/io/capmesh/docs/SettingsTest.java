package io.capmesh.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.commonmark.ext.gfm.tables.TableBlock;
import org.commonmark.ext.gfm.tables.TableBody;
import org.commonmark.ext.gfm.tables.TableCell;
import org.commonmark.ext.gfm.tables.TableRow;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.Code;
import org.commonmark.node.CustomBlock;
import org.commonmark.node.Node;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docs/operating.md's settings tables against what the service jars declare ({@link ServiceSettings}): each capmesh
 * setting has one row, each row names a setting a service has, and a default the table gives is the code's.
 */
class SettingsTest {

    private static final Path OPERATING = Markdown.REPOSITORY.resolve("docs/operating.md");

    /** Every setting any service has, capmesh's and Spring's. */
    private static final Map<String, ServiceSettings.Setting> DECLARED = ServiceSettings.all();
    /** Every row of the page's settings tables: setting to its default cell, with where it is. */
    private static final Map<String, Row> DOCUMENTED = new TreeMap<>();
    private static final List<String> REPEATED = new ArrayList<>();

    record Row(String where, String defaultCell) {}

    @BeforeAll
    static void read() {
        Markdown.parse(OPERATING).accept(new AbstractVisitor() {
            @Override
            public void visit(CustomBlock block) {
                if (block instanceof TableBlock table && header(table).startsWith("setting")) {
                    rows(table);
                }
            }
        });
    }

    @Test
    void theMetadataAndThePageAreRead() {
        assertThat(DECLARED).containsKeys("capmesh.runtime.data-dir", "capmesh.broker.store.url",
                "capmesh.data.datasources", "capmesh.access.mode", "capmesh.tls.certificate", "capmesh.tracing.span-dir",
                "spring.grpc.server.port");
        assertThat(DOCUMENTED).isNotEmpty();
    }

    @Test
    void everyCapmeshSettingHasARow() {
        TreeSet<String> missing = new TreeSet<>(DECLARED.keySet());
        missing.removeIf(setting -> !setting.startsWith("capmesh.") || DOCUMENTED.containsKey(setting));
        assertThat(missing).as("settings the services declare that docs/operating.md has no row for").isEmpty();
    }

    @Test
    void everyRowNamesASettingOfAService() {
        List<String> unknown = DOCUMENTED.entrySet().stream().filter(row -> !DECLARED.containsKey(row.getKey()))
                .map(row -> row.getValue().where() + ": " + row.getKey()).toList();
        assertThat(unknown).as("rows of docs/operating.md that name no setting of any service").isEmpty();
        assertThat(REPEATED).as("settings with more than one row").isEmpty();
    }

    @Test
    void aDefaultTheTableGivesIsTheCodes() {
        List<String> wrong = new ArrayList<>();
        DOCUMENTED.forEach((setting, row) -> {
            String declared = DECLARED.containsKey(setting) ? DECLARED.get(setting).defaultValue() : null;
            if (declared != null && !declared.isEmpty() && !declared.equalsIgnoreCase(row.defaultCell())) {
                wrong.add(row.where() + ": " + setting + " documents " + row.defaultCell() + ", the code has "
                        + declared);
            }
        });
        assertThat(wrong).isEmpty();
    }

    private static String header(TableBlock table) {
        Node head = table.getFirstChild();
        return head == null || head.getFirstChild() == null || head.getFirstChild().getFirstChild() == null ? ""
                : Markdown.text(head.getFirstChild().getFirstChild()).trim().toLowerCase();
    }

    private static void rows(TableBlock table) {
        for (Node section = table.getFirstChild(); section != null; section = section.getNext()) {
            if (!(section instanceof TableBody)) {
                continue;
            }
            for (Node row = section.getFirstChild(); row != null; row = row.getNext()) {
                if (row instanceof TableRow && row.getFirstChild() instanceof TableCell name) {
                    String setting = name.getFirstChild() instanceof Code code ? code.getLiteral()
                            : Markdown.text(name).trim();
                    Node second = name.getNext();
                    String defaultCell = second == null ? "-" : second.getFirstChild() instanceof Code code
                            ? code.getLiteral() : Markdown.text(second).trim();
                    Row previous = DOCUMENTED.put(setting, new Row(Markdown.where(OPERATING, row), defaultCell));
                    if (previous != null) {
                        REPEATED.add(previous.where() + " and " + Markdown.where(OPERATING, row) + ": " + setting);
                    }
                }
            }
        }
    }
}
