package io.capmesh.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What a deploy or a swap sends: an extension jar, or Java sources that each runtime compiles. */
final class PackageArgument {

    @Parameters(index = "0", arity = "0..1", paramLabel = "JAR", description = "The extension jar.")
    private Path jar;

    @Option(names = "--source", paramLabel = "PATH", description = {"Java sources instead of a jar, compiled by"
            + " each runtime: a folder (its .java files, its extension.json and its lib/*.jar) or one .java file"
            + " that opens with a /* capmesh:extension.json {...} */ comment holding the manifest."})
    private Path source;

    /** @throws CliFailure (usage) when neither or both are given, or the files cannot be read */
    ExtensionJar read() {
        if ((jar == null) == (source == null)) {
            throw CliFailure.usage("give an extension JAR or --source PATH (one of them)");
        }
        return jar != null ? ExtensionJar.read(jar) : ExtensionJar.sources(source);
    }
}
