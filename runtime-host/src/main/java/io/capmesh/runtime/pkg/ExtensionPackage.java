package io.capmesh.runtime.pkg;

import java.nio.file.Path;

/**
 * A package that passed every check of the {@link PackageReader}: a readable jar within the limits, with a
 * valid manifest and nothing that would end the runtime.
 *
 * @param manifest what it declares
 * @param source   the name it arrived under (a file name), for messages
 * @param jar      the jar its classes load from
 * @param sha256   hex digest of the package's bytes as it arrived
 * @param size     the package's size in bytes as it arrived
 * @param classes  its class files as the checks read them, lent to its first load
 * @param received the package as it arrived, named by its content hash: what the store keeps. The jar itself,
 *                 or for a package of Java sources, those sources (and {@code jar} what they compiled to)
 * @param compileMicros how long compiling its sources took as it was read; 0 for a jar, or sources compiled before
 */
public record ExtensionPackage(ExtensionManifest manifest, String source, Path jar, String sha256, long size,
                               CheckedClasses classes, Path received, long compileMicros) {

    /** A jar, as it arrived. */
    public ExtensionPackage(ExtensionManifest manifest, String source, Path jar, String sha256, long size,
                            CheckedClasses classes) {
        this(manifest, source, jar, sha256, size, classes, jar, 0);
    }

    /** A package whose classes all come from its jar. */
    public ExtensionPackage(ExtensionManifest manifest, String source, Path jar, String sha256, long size) {
        this(manifest, source, jar, sha256, size, CheckedClasses.NONE);
    }
}
