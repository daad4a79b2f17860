package io.capmesh.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The repository's modules and the classes each ships (its {@code target/classes}), so that the rules speak of
 * modules as docs/architecture.md does, not of packages that happen to share a prefix ({@code io.capmesh.crypto} is
 * the crypto tier, {@code io.capmesh.crypto.keys} the API it lends its extensions).
 */
final class Modules {

    /** Where a module sits, from the bottom up, as docs/architecture.md draws it. */
    enum Layer {
        /** Below the runtime host: contracts, the extension API and the libraries under lib/. */
        FOUNDATION,
        /** The engine every runtime embeds. */
        HOST,
        /** Extension jars, loaded by a runtime into loaders of their own. */
        EXTENSION,
        /** The broker and the four runtimes. */
        SERVICE,
        /** What calls the mesh from outside: the thin stub, functions built on it, the command line. */
        CLIENT,
        /** Test suites, benchmarks and image builds: no rule applies to their classes. */
        TOOLING
    }

    /** Every module with classes must match one pattern here, so that a new module gets its place in the rules. */
    private static final Map<String, Layer> PLACES = places(
            "proto", Layer.FOUNDATION, "extension-api", Layer.FOUNDATION, "lib/*", Layer.FOUNDATION,
            "runtime-host", Layer.HOST,
            "extensions/*", Layer.EXTENSION,
            "broker-service", Layer.SERVICE, "*-runtime-service", Layer.SERVICE,
            "thin-stub", Layer.CLIENT, "samples/*", Layer.CLIENT, "cli", Layer.CLIENT,
            "testing/*", Layer.TOOLING, "benchmarks", Layer.TOOLING, "container-images", Layer.TOOLING);

    /**
     * Generated copies of the extensions' own contract classes (the same class names), for clients; imported, a class
     * would belong to whichever module the importer met first.
     */
    private static final Set<String> NOT_IMPORTED = Set.of("lib/capability-contracts");

    static final Path REPOSITORY = Path.of(System.getProperty("capmesh.repository", "../..")).toAbsolutePath()
            .normalize();

    private static final Map<Path, String> CLASSES_DIRECTORIES = classesDirectories();

    static final JavaClasses CLASSES = new ClassFileImporter().importPaths(CLASSES_DIRECTORIES.entrySet().stream()
            .filter(entry -> layer(entry.getValue()).orElse(null) != Layer.TOOLING)
            .filter(entry -> !NOT_IMPORTED.contains(entry.getValue())).map(Map.Entry::getKey).toList());

    private Modules() {}

    /** Every module of the repository with compiled classes, by its path from the root (lib/tls, extensions/echo). */
    static List<String> all() {
        return List.copyOf(CLASSES_DIRECTORIES.values());
    }

    static Optional<Layer> layer(String module) {
        return PLACES.entrySet().stream().filter(place -> matches(place.getKey(), module)).map(Map.Entry::getValue)
                .findFirst();
    }

    /** The module whose classes directory holds the class, or empty for the JDK's and libraries' classes. */
    static Optional<String> moduleOf(JavaClass type) {
        return type.getSource().map(source -> source.getUri()).filter(uri -> "file".equals(uri.getScheme()))
                .map(Path::of).flatMap(file -> CLASSES_DIRECTORIES.entrySet()
                .stream().filter(entry -> file.startsWith(entry.getKey())).map(Map.Entry::getValue).findFirst());
    }

    static DescribedPredicate<JavaClass> inLayer(Layer... layers) {
        List<Layer> wanted = Arrays.asList(layers);
        return DescribedPredicate.describe("are in " + wanted.toString().toLowerCase(),
                type -> moduleOf(type).flatMap(Modules::layer).filter(wanted::contains).isPresent());
    }

    static DescribedPredicate<JavaClass> inModule(String... modules) {
        List<String> wanted = Arrays.asList(modules);
        return DescribedPredicate.describe("are in module " + String.join(" or ", wanted),
                type -> moduleOf(type).filter(wanted::contains).isPresent());
    }

    private static boolean matches(String pattern, String module) {
        return module.matches(pattern.replace(".", "\\.").replace("*", "[^/]+"));
    }

    private static Map<Path, String> classesDirectories() {
        if (!Files.isRegularFile(REPOSITORY.resolve("pom.xml"))) {
            throw new IllegalStateException(REPOSITORY + " is not the repository's root: set -Dcapmesh.repository");
        }
        Map<Path, String> directories = new LinkedHashMap<>();
        try (Stream<Path> poms = Files.find(REPOSITORY, 3, (path, attributes) -> path.endsWith("pom.xml"))) {
            for (Path module : poms.map(Path::getParent).filter(module -> !module.equals(REPOSITORY)).sorted()
                    .filter(module -> !inBuildOutput(REPOSITORY.relativize(module))).toList()) {
                String name = REPOSITORY.relativize(module).toString().replace('\\', '/');
                if (Files.isDirectory(module.resolve("src/main/java"))
                        && !Files.isDirectory(module.resolve("target/classes"))) {
                    throw new IllegalStateException(name + " has sources but no target/classes: build the modules"
                            + " first (./mvnw install -DskipTests), or the rules would pass without its classes");
                }
                if (Files.isDirectory(module.resolve("target/classes"))) {
                    directories.put(module.resolve("target/classes"), name);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return directories;
    }

    private static boolean inBuildOutput(Path relative) {
        for (Path part : relative) {
            if (part.toString().equals("target")) {
                return true;
            }
        }
        return false;
    }

    private static Map<String, Layer> places(Object... patternsAndLayers) {
        Map<String, Layer> places = new LinkedHashMap<>();
        for (int i = 0; i < patternsAndLayers.length; i += 2) {
            places.put((String) patternsAndLayers[i], (Layer) patternsAndLayers[i + 1]);
        }
        return places;
    }
}
