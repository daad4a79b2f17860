package io.capmesh.runtime.pkg;

import java.util.Map;
import java.util.jar.Manifest;

/**
 * The class files of a package as its checks inflated them, lent to the classloader of its first load: the
 * classes defined while an extension loads are then the very bytes that were checked, without inflating the jar
 * a second time. Released when that load ends; classes needed later, or by a later load of the same package, come
 * from the jar on disk, which holds the same bytes under its content hash.
 *
 * <p>Offered only for a jar whose classes the jar itself would serve unchanged: not for a multi-release jar
 * (whose loader picks versioned entries) nor for a JAR-signed one (whose classes carry their signers).
 */
public final class CheckedClasses {

    /** Nothing lent: every class comes from the jar. */
    public static final CheckedClasses NONE = new CheckedClasses(null, null);

    private final Manifest jarManifest;
    private volatile Map<String, byte[]> files;

    /**
     * @param files       every class file of the jar by entry name ({@code a/b/C.class})
     * @param jarManifest the jar's {@code META-INF/MANIFEST.MF}, or null when it has none
     */
    CheckedClasses(Map<String, byte[]> files, Manifest jarManifest) {
        this.files = files;
        this.jarManifest = jarManifest;
    }

    /**
     * Every class file of the jar by entry name, or null once released (or when none were offered): while it is
     * not null, a class that is not in it is not in the jar either.
     */
    public Map<String, byte[]> files() {
        return files;
    }

    /** The jar's own manifest, which defines the packages of its classes; null when it has none. */
    public Manifest jarManifest() {
        return jarManifest;
    }

    /** Ends the lend: from now on the package's classes come from its jar, and these bytes can be collected. */
    public void release() {
        files = null;
    }
}
