package io.capmesh.docs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.commonmark.Extension;
import org.commonmark.ext.gfm.tables.TablesExtension;
import org.commonmark.ext.heading.anchor.IdGenerator;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.Code;
import org.commonmark.node.Heading;
import org.commonmark.node.Node;
import org.commonmark.node.Text;
import org.commonmark.parser.IncludeSourceSpans;
import org.commonmark.parser.Parser;

/** The repository's Markdown files, parsed as GitHub renders them (CommonMark with tables). */
final class Markdown {

    static final Path REPOSITORY = Path.of(System.getProperty("capmesh.repository", "../..")).toAbsolutePath()
            .normalize();

    private static final List<Extension> EXTENSIONS = List.of(TablesExtension.create());
    private static final Parser PARSER = Parser.builder().extensions(EXTENSIONS)
            .includeSourceSpans(IncludeSourceSpans.BLOCKS_AND_INLINES).build();
    /** Build output, dependencies and history: not the project's documentation. */
    private static final Set<String> NOT_DOCS = Set.of("target", ".git", "node_modules", ".mvn", ".capmesh");

    private Markdown() {}

    /** Every Markdown file of the project, README.md first. */
    static List<Path> files() {
        if (!Files.isRegularFile(REPOSITORY.resolve("README.md"))) {
            throw new IllegalStateException(REPOSITORY + " is not the repository's root: set -Dcapmesh.repository");
        }
        try (Stream<Path> tree = Files.walk(REPOSITORY)) {
            List<Path> files = new ArrayList<>(tree
                    .filter(path -> REPOSITORY.relativize(path).toString().isEmpty()
                            || stream(REPOSITORY.relativize(path)).noneMatch(NOT_DOCS::contains))
                    .filter(path -> path.toString().endsWith(".md") && Files.isRegularFile(path)).sorted().toList());
            files.remove(REPOSITORY.resolve("README.md"));
            files.add(0, REPOSITORY.resolve("README.md"));
            return files;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Node parse(Path file) {
        try {
            return PARSER.parse(Files.readString(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The anchors GitHub gives the file's headings ({@code #what-is-here}), in order, repeats numbered. */
    static Set<String> anchors(Path file) {
        IdGenerator ids = IdGenerator.builder().build();
        Set<String> anchors = new LinkedHashSet<>();
        parse(file).accept(new AbstractVisitor() {
            @Override
            public void visit(Heading heading) {
                anchors.add(ids.generateId(text(heading)));
            }
        });
        return anchors;
    }

    /** The text a node renders, without its markup. */
    static String text(Node node) {
        StringBuilder text = new StringBuilder();
        node.accept(new AbstractVisitor() {
            @Override
            public void visit(Text literal) {
                text.append(literal.getLiteral());
            }

            @Override
            public void visit(Code code) {
                text.append(code.getLiteral());
            }
        });
        return text.toString();
    }

    /** Where a node starts, as {@code docs/operating.md:12}. */
    static String where(Path file, Node node) {
        int line = node.getSourceSpans().isEmpty() ? 0 : node.getSourceSpans().get(0).getLineIndex() + 1;
        return REPOSITORY.relativize(file) + ":" + line;
    }

    private static Stream<String> stream(Path relative) {
        List<String> names = new ArrayList<>();
        relative.forEach(name -> names.add(name.toString()));
        return names.stream();
    }
}
