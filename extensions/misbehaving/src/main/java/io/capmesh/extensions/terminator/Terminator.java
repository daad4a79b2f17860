package io.capmesh.extensions.terminator;

/**
 * A library an extension bundles (outside the extension's own package, so the deploy-time scan does not read it)
 * that ends the JVM with plain calls, as CLI-minded libraries do.
 */
public final class Terminator {

    private Terminator() {
    }

    public static void exit(int status) {
        System.exit(status);
    }

    public static void halt(int status) {
        Runtime.getRuntime().halt(status);
    }
}
