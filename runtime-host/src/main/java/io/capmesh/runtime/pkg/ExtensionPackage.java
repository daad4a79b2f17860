package io.capmesh.runtime.pkg;

import java.nio.file.Path;

/**
 * A package that passed every check of the {@link PackageReader}: a readable jar within the limits, with a
 * valid manifest and nothing that would end the runtime.
 *
 * @param manifest what it declares
 * @param source   the name it arrived under (a file name), for messages
 * @param jar      the jar on the runtime's disk, named by its content hash
 * @param sha256   hex digest of the jar's bytes
 * @param size     the jar's size in bytes
 * @param classes  its class files as the checks read them, lent to its first load
 */
public record ExtensionPackage(ExtensionManifest manifest, String source, Path jar, String sha256, long size,
                               CheckedClasses classes) {

    /** A package whose classes all come from its jar. */
    public ExtensionPackage(ExtensionManifest manifest, String source, Path jar, String sha256, long size) {
        this(manifest, source, jar, sha256, size, CheckedClasses.NONE);
    }
}
