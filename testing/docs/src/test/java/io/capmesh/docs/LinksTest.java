package io.capmesh.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.HtmlBlock;
import org.commonmark.node.HtmlInline;
import org.commonmark.node.Image;
import org.commonmark.node.Link;
import org.commonmark.node.Node;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every relative link and image in the Markdown points at a file that exists, and at a heading that exists. */
class LinksTest {

    /** {@code https:}, {@code mailto:}: links out of the repository, not checked (the build has no internet). */
    private static final Pattern SCHEME = Pattern.compile("^([a-zA-Z][a-zA-Z0-9+.-]*:|//)");
    private static final Pattern HTML_REFERENCE = Pattern.compile("\\b(?:src|href)\\s*=\\s*\"([^\"]*)\"");

    static List<Path> files() {
        return Markdown.files();
    }

    @Test
    void theDocsAreFound() {
        assertThat(files()).contains(Markdown.REPOSITORY.resolve("README.md"),
                Markdown.REPOSITORY.resolve("BENCHMARKS.md"), Markdown.REPOSITORY.resolve("docs/operating.md"),
                Markdown.REPOSITORY.resolve("k8s/README.md"));
    }

    @Test
    void aBrokenLinkOrAnchorIsCaught() {
        Path readme = Markdown.REPOSITORY.resolve("README.md");
        assertThat(problem(readme, "docs/operating.md")).isNull();
        assertThat(problem(readme, "https://github.com/grpc/grpc-java")).isNull();
        assertThat(problem(readme, "docs/no-such-page.md")).isEqualTo("no such file docs/no-such-page.md");
        assertThat(problem(readme, "docs/operating.md#no-such-heading")).startsWith("no heading with the anchor");
        assertThat(problem(readme, "../elsewhere.md")).isEqualTo("outside the repository");
    }

    @ParameterizedTest
    @MethodSource("files")
    void everyRelativeLinkResolves(Path file) {
        List<String> broken = new ArrayList<>();
        Markdown.parse(file).accept(new AbstractVisitor() {
            @Override
            public void visit(Link link) {
                check(link, link.getDestination());
                visitChildren(link);
            }

            @Override
            public void visit(Image image) {
                check(image, image.getDestination());
            }

            @Override
            public void visit(HtmlBlock html) {
                html(html, html.getLiteral());
            }

            @Override
            public void visit(HtmlInline html) {
                html(html, html.getLiteral());
            }

            private void html(Node node, String literal) {
                Matcher reference = HTML_REFERENCE.matcher(literal);
                while (reference.find()) {
                    check(node, reference.group(1));
                }
            }

            private void check(Node node, String destination) {
                String problem = problem(file, destination);
                if (problem != null) {
                    broken.add(Markdown.where(file, node) + ": " + destination + ": " + problem);
                }
            }
        });
        assertThat(broken).as("broken links").isEmpty();
    }

    /** Why the link does not resolve, or null when it does. */
    static String problem(Path file, String destination) {
        if (destination.isBlank() || SCHEME.matcher(destination).find()) {
            return null;
        }
        int hash = destination.indexOf('#');
        String path = URLDecoder.decode(hash < 0 ? destination : destination.substring(0, hash),
                StandardCharsets.UTF_8);
        String anchor = hash < 0 ? "" : destination.substring(hash + 1);
        Path target = path.isEmpty() ? file : file.getParent().resolve(path).normalize();
        if (!target.startsWith(Markdown.REPOSITORY)) {
            return "outside the repository";
        }
        if (!Files.exists(target)) {
            return "no such file " + Markdown.REPOSITORY.relativize(target);
        }
        if (!anchor.isEmpty() && target.toString().endsWith(".md") && !Markdown.anchors(target).contains(anchor)) {
            return "no heading with the anchor #" + anchor + " in " + Markdown.REPOSITORY.relativize(target);
        }
        return null;
    }
}
