package io.capmesh.runtime.loader;

import io.capmesh.exitguard.ExitGate;
import io.capmesh.runtime.pkg.CheckedClasses;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.security.CodeSigner;
import java.security.CodeSource;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.jar.Manifest;

/**
 * The classloader of one extension version.
 *
 * <p>Delegation rule (the "canonical type" rule): classes and resources in the host's shared packages (the SPI,
 * gRPC, protobuf and the tier's shared libraries) always come from the host, so a type that crosses the boundary
 * is the same type on both sides. Everything else is looked up in the extension's own jar first, then in the
 * JDK's platform loader; the host's class path is never visible, so an extension cannot depend on it by accident
 * and its private libraries never clash with the host's.
 *
 * <p>While the extension loads, its classes are defined from the class files the package's checks read
 * ({@link CheckedClasses}); once those are released, from the jar.
 */
public final class ExtensionClassLoader extends URLClassLoader {

    static {
        registerAsParallelCapable();
    }

    private static final java.util.concurrent.atomic.AtomicLong SERIALS = new java.util.concurrent.atomic.AtomicLong();

    private final long serial;
    private final String extension;
    private final ClassLoader hostLoader;
    private final List<String> sharedPackages;
    private final CheckedClasses checked;
    private final CodeSource codeSource;
    private final Consumer<ExitGate.Attempt> exits;

    /**
     * @param extension      {@code id@version}, for names and messages
     * @param jar            the extension package
     * @param hostLoader     where shared packages are resolved
     * @param sharedPackages package prefixes that end with a dot, e.g. {@code "io.grpc."}
     * @param checked        the jar's class files as its checks read them, used until released
     * @param exits          told of each exit its code asked for and was refused
     */
    public ExtensionClassLoader(String extension, Path jar, ClassLoader hostLoader, List<String> sharedPackages,
                                CheckedClasses checked, Consumer<ExitGate.Attempt> exits) {
        this(SERIALS.incrementAndGet(), extension, jar, hostLoader, sharedPackages, checked, exits);
    }

    /** Named {@code extension:id@version#serial}: stack frames name the loader, and tell two loads apart. */
    private ExtensionClassLoader(long serial, String extension, Path jar, ClassLoader hostLoader,
                                 List<String> sharedPackages, CheckedClasses checked,
                                 Consumer<ExitGate.Attempt> exits) {
        super("extension:" + extension + "#" + serial, new URL[] {toUrl(jar)}, ClassLoader.getPlatformClassLoader());
        this.serial = serial;
        this.extension = extension;
        this.hostLoader = hostLoader;
        this.sharedPackages = List.copyOf(sharedPackages);
        this.checked = checked;
        this.codeSource = new CodeSource(getURLs()[0], (CodeSigner[]) null); // the jar's, as it has no signers
        this.exits = exits;
    }

    /** Its code asked to end the JVM, and was refused (see ExitContainment). */
    public void exitBlocked(ExitGate.Attempt attempt) {
        exits.accept(attempt);
    }

    /** Tells this loader apart from every other one of this JVM, including earlier loads of the same version. */
    public long serial() {
        return serial;
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
                loaded = findOwn(name);
            }
            if (loaded == null) {
                loaded = getParent().loadClass(name);
            }
            if (resolve) {
                resolveClass(loaded);
            }
            return loaded;
        }
    }

    /** The class from the extension's jar, or null when the jar has no such class. */
    private Class<?> findOwn(String name) {
        Map<String, byte[]> files = checked.files();
        if (files == null) {
            try {
                return findClass(name);
            } catch (ClassNotFoundException notInJar) {
                return null;
            }
        }
        byte[] file = files.get(name.replace('.', '/') + ".class");
        if (file == null) {
            return null;
        }
        int dot = name.lastIndexOf('.');
        if (dot > 0 && getDefinedPackage(name.substring(0, dot)) == null) {
            definePackageOf(name.substring(0, dot));
        }
        return defineClass(name, file, 0, file.length, codeSource);
    }

    /** As URLClassLoader defines the package of a class it reads from the jar. */
    private void definePackageOf(String packageName) {
        Manifest manifest = checked.jarManifest();
        try {
            if (manifest != null) {
                definePackage(packageName, manifest, codeSource.getLocation());
            } else {
                definePackage(packageName, null, null, null, null, null, null, null);
            }
        } catch (IllegalArgumentException definedMeanwhile) {
            // another class of the package was defined in parallel, with the same attributes
        }
    }

    /** A class file the checks read is served from memory while it is held, as the jar would serve it. */
    @Override
    public InputStream getResourceAsStream(String name) {
        Map<String, byte[]> files = checked.files();
        byte[] file = files == null || isShared(resourcePackage(name)) ? null : files.get(name);
        return file != null ? new ByteArrayInputStream(file) : super.getResourceAsStream(name);
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
