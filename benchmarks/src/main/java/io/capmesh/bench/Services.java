package io.capmesh.bench;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Where the packaged services are: a directory given on the command line, {@code services/} next to the bench
 * jar, or each module's {@code target/} in the repository the bench jar was built in.
 */
record Services(List<Path> searched, Path repository) {

    static final String BROKER = "broker-service";
    static final String CORE = "core-runtime-service";
    static final String DATA = "data-runtime-service";
    static final String ML = "ml-runtime-service";
    static final String CRYPTO = "crypto-runtime-service";

    static Services locate(Path given) {
        List<Path> dirs = new ArrayList<>();
        if (given != null) {
            dirs.add(given.toAbsolutePath());
        }
        String property = System.getProperty("capmesh.bench.services");
        if (property != null) {
            dirs.add(Path.of(property).toAbsolutePath());
        }
        Path home = codeLocation();
        if (home != null) {
            dirs.add(home.resolveSibling("services"));
        }
        Path repository = findRepository(home != null ? home : Path.of("").toAbsolutePath());
        return new Services(List.copyOf(dirs), repository);
    }

    /** The jar of a service module, e.g. {@code core-runtime-service}. */
    Optional<Path> jar(String module) {
        String name = "capmesh-" + module + ".jar";
        for (Path dir : searched) {
            if (Files.isRegularFile(dir.resolve(name))) {
                return Optional.of(dir.resolve(name));
            }
        }
        if (repository != null && Files.isRegularFile(repository.resolve(module).resolve("target").resolve(name))) {
            return Optional.of(repository.resolve(module).resolve("target").resolve(name));
        }
        return Optional.empty();
    }

    String whereLooked(String module) {
        List<String> places = new ArrayList<>(searched.stream().map(Path::toString).toList());
        if (repository != null) {
            places.add(repository.resolve(module).resolve("target").toString());
        }
        return "capmesh-" + module + ".jar not found in " + String.join(", ", places)
                + " (build first: ./mvnw -B -q install -DskipTests)";
    }

    /** The bench jar, or the classes directory when run from the build. */
    private static Path codeLocation() {
        try {
            return Path.of(Services.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException | RuntimeException e) {
            return null;
        }
    }

    private static Path findRepository(Path start) {
        for (Path dir = start; dir != null; dir = dir.getParent()) {
            if (Files.isRegularFile(dir.resolve("pom.xml")) && Files.isDirectory(dir.resolve("runtime-host"))) {
                return dir;
            }
        }
        return null;
    }
}
