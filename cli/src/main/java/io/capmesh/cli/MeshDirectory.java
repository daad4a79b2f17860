package io.capmesh.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --dir}: where the local mesh keeps its state file, stores and logs. */
public final class MeshDirectory {

    @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".capmesh/mesh",
            description = "The local mesh's directory: state file, stores and logs (default: ${DEFAULT-VALUE}).")
    private Path dir;

    public LocalMesh mesh() {
        return LocalMesh.in(dir);
    }
}
