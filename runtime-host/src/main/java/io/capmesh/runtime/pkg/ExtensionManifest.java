package io.capmesh.runtime.pkg;

import java.util.List;
import java.util.Set;

/**
 * What an extension package declares about itself, read from {@code META-INF/capmesh/extension.json}.
 *
 * @param id           stable name of the extension, e.g. {@code core-json}
 * @param version      semver of this build of it
 * @param entryClass   the class implementing {@code io.capmesh.extension.api.Extension}
 * @param capabilities what it provides
 * @param dependencies capabilities it needs from the mesh
 * @param isolation    {@code in-process} (default) or {@code process}
 */
public record ExtensionManifest(
        String id,
        String version,
        String entryClass,
        List<Capability> capabilities,
        List<Dependency> dependencies,
        String isolation) {

    public static final String PATH = "META-INF/capmesh/extension.json";

    public ExtensionManifest {
        capabilities = List.copyOf(capabilities);
        dependencies = dependencies == null ? List.of() : List.copyOf(dependencies);
        isolation = isolation == null || isolation.isBlank() ? "in-process" : isolation;
    }

    /** {@code id@version}, the name used in messages and thread names. */
    public String coordinates() {
        return id + "@" + version;
    }

    public ExtensionManifest withVersion(String newVersion) {
        return new ExtensionManifest(id, newVersion, entryClass, capabilities, dependencies, isolation);
    }

    public ExtensionManifest withIsolation(String newIsolation) {
        return new ExtensionManifest(id, version, entryClass, capabilities, dependencies, newIsolation);
    }

    /** True when the extension asks to run in a child JVM of its own. */
    public boolean processIsolation() {
        return isolation.equals("process");
    }

    /**
     * A capability and the methods it answers.
     *
     * @param nonBlocking the methods whose calls neither block nor run long (a few milliseconds at most), by their
     *                    Invoke name ({@code echo}) or as typed gRPC methods ({@code capmesh.core.echo.v1.Echo/Echo}):
     *                    the runtime may run them on the transport's own thread, which saves the handoff to its call
     *                    pool (about a third of a loopback hop); none by default
     */
    public record Capability(String name, String version, Set<String> methods, Set<String> nonBlocking) {
        public Capability {
            methods = Set.copyOf(methods);
            nonBlocking = nonBlocking == null ? Set.of() : Set.copyOf(nonBlocking);
        }

        public Capability(String name, String version, Set<String> methods) {
            this(name, version, methods, Set.of());
        }
    }

    /** A capability this extension needs, as a semver range. */
    public record Dependency(String capability, String versionRange) {
    }
}
