package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every option a message of the CLI suggests (an error's advice, a note, a description) is one some capmesh command
 * takes: read from every string the CLI's sources hold, checked against the commands' own definitions.
 */
class MessagesNameRealOptionsTest {

    /** An option as a person would type it: not a Spring property (--server.port=) or a JVM flag's value. */
    private static final Pattern OPTION = Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*(?![\\w.=-])");
    private static final Pattern STRING = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");

    @Test
    void everyOptionAMessageSuggestsExists() throws IOException {
        Set<String> real = new TreeSet<>();
        collect(CapmeshCommand.commandLine(new ByteArrayInputStream(new byte[0])), real);
        List<String> unknown = new ArrayList<>();
        int checked = 0;
        try (Stream<Path> sources = Files.walk(Path.of("src/main/java"))) {
            for (Path source : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
                Matcher strings = STRING.matcher(Files.readString(source));
                while (strings.find()) {
                    Matcher options = OPTION.matcher(strings.group(1));
                    while (options.find()) {
                        checked++;
                        if (!real.contains(options.group())) {
                            unknown.add(options.group() + " in " + source.getFileName() + ": \"" + strings.group(1)
                                    + "\"");
                        }
                    }
                }
            }
        }
        assertThat(checked).as("options named in the CLI's strings").isGreaterThan(50);
        assertThat(unknown).as("options that no capmesh command takes").isEmpty();
    }

    private static void collect(CommandLine command, Set<String> names) {
        command.getCommandSpec().options().forEach(option -> names.addAll(List.of(option.names())));
        command.getSubcommands().values().forEach(sub -> collect(sub, names));
    }
}
