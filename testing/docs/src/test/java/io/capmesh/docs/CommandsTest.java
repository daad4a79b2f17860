package io.capmesh.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.cli.CapmeshCommand;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.commonmark.node.AbstractVisitor;
import org.commonmark.node.FencedCodeBlock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * Every command the docs' code blocks show is one the project takes: a {@code bin/capmesh} command parses with the
 * command line's own parser (its subcommands and options exist and take the values shown), and a
 * {@code bin/service} command names a service and only settings that service has. (What they do is the CLI's and
 * the services' tests' business, and the README's two commands are what CI runs.)
 */
class CommandsTest {

    static List<Path> files() {
        return Markdown.files();
    }

    @Test
    void theDocsShowCommands() {
        assertThat(files().stream().mapToInt(file -> commands(file).size()).sum()).isGreaterThan(10);
        assertThat(commands(Markdown.REPOSITORY.resolve("README.md"))).extracting(Command::line)
                .contains("bin/capmesh demo");
    }

    @Test
    void aCommandTheCliDoesNotTakeIsCaught() {
        assertThatThrownBy(() -> parse(words("bin/capmesh deploy --no-such-option x.jar")))
                .isInstanceOf(CommandLine.ParameterException.class).hasMessageContaining("--no-such-option");
        assertThat(words("bin/capmesh invoke core.json canonicalize --data '{\"b\": 1}' # then read it"))
                .containsExactly("invoke", "core.json", "canonicalize", "--data", "{\"b\": 1}");
        assertThat(words("bin/capmesh token --subject ops > ops.token 2> errors")).containsExactly("token",
                "--subject", "ops");
    }

    @ParameterizedTest
    @MethodSource("files")
    void everyCommandParses(Path file) {
        List<String> refused = new ArrayList<>();
        for (Command command : commands(file)) {
            String problem = command.line().startsWith("bin/service") ? serviceProblem(words(command.line()))
                    : cliProblem(words(command.line()));
            if (problem != null) {
                refused.add(command.where() + ": " + command.line() + ": " + problem);
            }
        }
        assertThat(refused).as("commands the CLI refuses").isEmpty();
    }

    record Command(String where, String line) {}

    @Test
    void aServiceOrSettingThatDoesNotExistIsCaught() {
        assertThat(serviceProblem(words("bin/service core-runtime --capmesh.runtime.data-dir=x"
                + " --capmesh.runtime.extensions.core.json.limit=3 --spring.grpc.server.port=0"))).isNull();
        assertThat(serviceProblem(words("bin/service core-runtime --capmesh.runtime.no-such=1")))
                .isEqualTo("core-runtime has no setting capmesh.runtime.no-such");
        assertThat(serviceProblem(words("bin/service broker --capmesh.data.datasources.main.url=x")))
                .isEqualTo("broker has no setting capmesh.data.datasources.main.url");
        assertThat(serviceProblem(words("bin/service web"))).startsWith("no service web");
    }

    /** Why the command line refuses the arguments, or null when it takes them. */
    private static String cliProblem(List<String> arguments) {
        try {
            parse(arguments);
            return null;
        } catch (CommandLine.ParameterException e) {
            return e.getMessage();
        }
    }

    /** Why {@code bin/service} would refuse the arguments or start without one of them, or null. */
    private static String serviceProblem(List<String> arguments) {
        if (arguments.isEmpty() || !ServiceSettings.SERVICES.containsKey(arguments.get(0))) {
            return "no service " + (arguments.isEmpty() ? "named" : arguments.get(0)) + " (bin/service takes "
                    + String.join(", ", ServiceSettings.names()) + ")";
        }
        for (String argument : arguments.subList(1, arguments.size())) {
            String setting = argument.replaceFirst("^--", "").replaceFirst("=.*", "");
            if (!argument.startsWith("--") || !ServiceSettings.takes(arguments.get(0), setting)) {
                return arguments.get(0) + " has no setting " + setting;
            }
        }
        return null;
    }

    private static void parse(List<String> arguments) {
        CapmeshCommand.commandLine(InputStream.nullInputStream()).parseArgs(arguments.toArray(String[]::new));
    }

    /** Each {@code bin/capmesh} and {@code bin/service} of the file's fenced code blocks, continued lines joined. */
    static List<Command> commands(Path file) {
        List<Command> commands = new ArrayList<>();
        Markdown.parse(file).accept(new AbstractVisitor() {
            @Override
            public void visit(FencedCodeBlock block) {
                String code = block.getLiteral().replaceAll("\\\\\\n\\s*", " ");
                for (String line : code.split("\\n")) {
                    for (String part : line.split("&&|\\|\\||;|\\|")) {
                        String command = part.strip();
                        if (command.matches("bin/(capmesh|service)( .*)?")) {
                            commands.add(new Command(Markdown.where(file, block), command));
                        }
                    }
                }
            }
        });
        return commands;
    }

    /**
     * The arguments the shell would pass after {@code bin/capmesh}: quotes removed, a trailing comment and
     * redirections dropped.
     */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (char c : line.toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                word = word == null ? new StringBuilder() : word;
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else if ((c == '#' || c == '>' || c == '<') && word == null) {
                break; // a comment or a redirection: what follows is not the command's
            } else if (c == '>' && "2".contentEquals(word)) {
                word = null;
                break;
            } else {
                word = word == null ? new StringBuilder().append(c) : word.append(c);
            }
        }
        if (word != null) {
            words.add(word.toString());
        }
        return words.subList(1, words.size());
    }
}
