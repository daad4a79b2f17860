package io.capmesh.runtime.loader;

import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;

/**
 * The classloader of one extension version.
 *
 * <p>Delegation rule (the "canonical type" rule): classes and resources in the host's shared packages (the SPI,
 * gRPC, protobuf and the tier's shared libraries) always come from the host, so a type that crosses the boundary
 * is the same type on both sides. Everything else is looked up in the extension's own jar first, then in the
 * JDK's platform loader; the host's class path is never visible, so an extension cannot depend on it by accident
 * and its private libraries never clash with the host's.
 */
public final class ExtensionClassLoader extends URLClassLoader {

    static {
        registerAsParallelCapable();
    }

    private final String extension;
    private final ClassLoader hostLoader;
    private final List<String> sharedPackages;

    /**
     * @param extension      {@code id@version}, for names and messages
     * @param jar            the extension package
     * @param hostLoader     where shared packages are resolved
     * @param sharedPackages package prefixes that end with a dot, e.g. {@code "io.grpc."}
     */
    public ExtensionClassLoader(String extension, Path jar, ClassLoader hostLoader, List<String> sharedPackages) {
        super("extension:" + extension, new URL[] {toUrl(jar)}, ClassLoader.getPlatformClassLoader());
        this.extension = extension;
        this.hostLoader = hostLoader;
        this.sharedPackages = List.copyOf(sharedPackages);
    }

    /** {@code id@version} of the extension this loader belongs to. */
    public String extension() {
        return extension;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (isShared(name)) {
            return hostLoader.loadClass(name);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> loaded = findLoadedClass(name);
            if (loaded == null) {
                try {
                    loaded = findClass(name);
                } catch (ClassNotFoundException notInJar) {
                    loaded = getParent().loadClass(name);
                }
            }
            if (resolve) {
                resolveClass(loaded);
            }
            return loaded;
        }
    }

    @Override
    public URL getResource(String name) {
        if (isShared(resourcePackage(name))) {
            return hostLoader.getResource(name);
        }
        URL own = findResource(name);
        return own != null ? own : getParent().getResource(name);
    }

    @Override
    public Enumeration<URL> getResources(String name) throws IOException {
        if (isShared(resourcePackage(name))) {
            return hostLoader.getResources(name);
        }
        List<URL> all = Collections.list(findResources(name));
        all.addAll(Collections.list(getParent().getResources(name)));
        return Collections.enumeration(all);
    }

    private boolean isShared(String className) {
        for (String prefix : sharedPackages) {
            if (className.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static String resourcePackage(String resource) {
        return resource.replace('/', '.');
    }

    private static URL toUrl(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (IOException e) {
            throw new IllegalArgumentException("not a file path: " + jar, e);
        }
    }

    /**
     * Defines a host-provided helper class inside this loader, for the few JDK APIs that only act for code of
     * the caller's own loader (such as {@code DriverManager.deregisterDriver}). The helper must use JDK types only.
     */
    public Class<?> defineHelper(String name, byte[] classFile) {
        synchronized (getClassLoadingLock(name)) {
            Class<?> defined = findLoadedClass(name);
            return defined != null ? defined : defineClass(name, classFile, 0, classFile.length);
        }
    }

    @Override
    public String toString() {
        return "ExtensionClassLoader[" + extension + "]";
    }
}
