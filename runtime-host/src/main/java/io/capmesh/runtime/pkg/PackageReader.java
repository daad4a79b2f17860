package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import io.capmesh.signing.PackageContents;
import io.capmesh.signing.PackageSignature;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.TrustedKeys;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * The first owner of an incoming package: copies it to the runtime's disk within the size limit, hashes it,
 * checks that it is a whole jar that expands within the limit, verifies its signature as the policy demands,
 * reads its manifest, and refuses extension code that would end the runtime's process (unless it asks to run in a
 * process of its own). Sizes are counted from the bytes actually read and inflated, never from headers. Nothing
 * here loads a class; the class files it inflated are lent to the package's first load ({@link CheckedClasses}).
 * A package of Java sources is checked as it was sent, then compiled ({@link CompiledPackages}) and its classes
 * checked as a jar's.
 */
public final class PackageReader {

    /** Calls that would take the whole runtime down with the extension. */
    private static final Set<ClassFileScanner.MethodRef> FORBIDDEN_CALLS = Set.of(
            new ClassFileScanner.MethodRef("java/lang/System", "exit"),
            new ClassFileScanner.MethodRef("java/lang/Runtime", "exit"),
            new ClassFileScanner.MethodRef("java/lang/Runtime", "halt"));

    /**
     * @param maxPackageBytes  largest jar accepted
     * @param maxExpandedBytes largest total size of its entries once inflated (against zip bombs)
     * @param maxEntries       most entries in one jar
     * @param maxSourceBytes   most bytes of Java sources in a source package
     * @param compileTimeout   longest a source package's compile may run
     */
    public record Limits(long maxPackageBytes, long maxExpandedBytes, int maxEntries, long maxSourceBytes,
                         Duration compileTimeout) {
        public static final long DEFAULT_MAX_SOURCE_BYTES = 1L << 20;
        public static final Duration DEFAULT_COMPILE_TIMEOUT = Duration.ofSeconds(20);
        public static final Limits DEFAULT = new Limits(64L << 20, 256L << 20, 20_000);

        public Limits(long maxPackageBytes, long maxExpandedBytes, int maxEntries) {
            this(maxPackageBytes, maxExpandedBytes, maxEntries, DEFAULT_MAX_SOURCE_BYTES, DEFAULT_COMPILE_TIMEOUT);
        }
    }

    private static final String JAR_MANIFEST = "META-INF/MANIFEST.MF";

    private static final byte[] NO_BYTES_SHA256 = PackageContents.newDigest().digest();

    private final Path jarDirectory;
    private final Limits limits;
    private final PackageVerifier signatures;
    /** Where source packages compile to, or null where none are taken. */
    private final CompiledPackages compiled;
    /** Reads share the package files; the sweep takes them alone. */
    private final java.util.concurrent.locks.ReentrantReadWriteLock files =
            new java.util.concurrent.locks.ReentrantReadWriteLock();
    /** Content hashes of the packages the service ships on its class path, trusted like the service's own code. */
    private final Set<String> shipped = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** @param jarDirectory where accepted jars are kept, one file per content hash */
    public PackageReader(Path jarDirectory, Limits limits) {
        this(jarDirectory, limits, new PackageVerifier(SignaturePolicy.VERIFY_IF_SIGNED, TrustedKeys.NONE));
    }

    /** @param signatures the signature policy and the keys it trusts */
    public PackageReader(Path jarDirectory, Limits limits, PackageVerifier signatures) {
        this(jarDirectory, limits, signatures, null);
    }

    /** @param compiled where source packages are compiled to and kept; null: source packages are refused */
    public PackageReader(Path jarDirectory, Limits limits, PackageVerifier signatures, CompiledPackages compiled) {
        this.jarDirectory = jarDirectory;
        this.limits = limits;
        this.signatures = signatures;
        this.compiled = compiled;
    }

    public Limits limits() {
        return limits;
    }

    public PackageVerifier signatures() {
        return signatures;
    }

    /** Reads a package from a path on this runtime's file system. */
    public ExtensionPackage read(Path source) {
        if (!Files.isRegularFile(source)) {
            throw Problem.notFound("no package file at " + source).toException();
        }
        try (InputStream in = Files.newInputStream(source)) {
            return read(in, source.getFileName().toString(), null);
        } catch (IOException e) {
            throw Problem.invalid("cannot read " + source + ": " + e.getMessage()).toException();
        }
    }

    /**
     * Reads a package from a stream.
     *
     * @param name           how to call it in messages (a file name or "uploaded package")
     * @param expectedSha256 hex digest the bytes must have, or null
     */
    public ExtensionPackage read(InputStream in, String name, String expectedSha256) throws IOException {
        return read(in, name, expectedSha256, false);
    }

    /**
     * Reads a package the service ships on its own class path. It needs no signature: it is part of the service,
     * as trusted as the image it came in. Its content hash is remembered, so the store's copy of these very bytes
     * is restored under any policy, while a stored package that differs by one byte is verified like any other.
     */
    public ExtensionPackage readShipped(InputStream in, String name) throws IOException {
        return read(in, name, null, true);
    }

    /**
     * Runs {@code work} while no package is being read: the sweep's deletions, which a read that finds a file (a
     * compiled jar in the cache, a copy it replaces) must not meet halfway.
     */
    public <T> T whileNoneIsRead(java.util.function.Supplier<T> work) {
        files.writeLock().lock();
        try {
            return work.get();
        } finally {
            files.writeLock().unlock();
        }
    }

    private ExtensionPackage read(InputStream in, String name, String expectedSha256, boolean fromService)
            throws IOException {
        files.readLock().lock();
        try {
            return readLocked(in, name, expectedSha256, fromService);
        } finally {
            files.readLock().unlock();
        }
    }

    private ExtensionPackage readLocked(InputStream in, String name, String expectedSha256, boolean fromService)
            throws IOException {
        if (!Files.isDirectory(jarDirectory)) { // one stat: creating an existing directory costs an exception
            Files.createDirectories(jarDirectory);
        }
        Path staged = Files.createTempFile(jarDirectory, "incoming-", ".jar");
        try {
            MessageDigest sha = sha256();
            long size;
            try (OutputStream out = new DigestOutputStream(Files.newOutputStream(staged), sha)) {
                size = copyWithin(in, out, limits.maxPackageBytes(), name);
            }
            String digest = HexFormat.of().formatHex(sha.digest());
            if (expectedSha256 != null && !expectedSha256.isBlank() && !expectedSha256.equalsIgnoreCase(digest)) {
                throw Problem.invalid(name + ": sha256 is " + digest + " but the request said " + expectedSha256
                        + "; the upload was altered or incomplete").toException();
            }
            Inspected inspected = inspect(staged, size, name, fromService || shipped.contains(digest));
            if (fromService) {
                shipped.add(digest);
            }
            Path classes = null;
            Inspected built = null;
            long compileMicros = 0;
            if (inspected.source() != null) { // checked as sent (signature included), then compiled and checked
                CompiledPackages.Compiled compiledNow = compiled.compiled(digest, inspected.source(), name);
                classes = compiledNow.jar();
                compileMicros = compiledNow.compileMicros();
                try {
                    built = inspect(classes, Files.size(classes), name, true);
                } catch (RuntimeException refused) {
                    Files.deleteIfExists(classes);
                    throw refused;
                }
            }
            Path jar = jarDirectory.resolve(digest + ".jar");
            Files.move(staged, jar, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return built != null ? new ExtensionPackage(built.manifest(), name, classes, digest, size, built.classes(),
                    jar, compileMicros)
                    : new ExtensionPackage(inspected.manifest(), name, jar, digest, size, inspected.classes());
        } finally {
            Files.deleteIfExists(staged);
        }
    }

    /** What the checks found: a jar's manifest and classes, or a source package's sources to compile. */
    private record Inspected(ExtensionManifest manifest, CheckedClasses classes, SourceFiles source) {
    }

    private Inspected inspect(Path jar, long size, String name, boolean trusted) throws IOException {
        if (size == 0) {
            throw Problem.invalid(name + " is empty; send the bytes of an extension jar").toException();
        }
        try (InputStream head = Files.newInputStream(jar)) {
            byte[] magic = head.readNBytes(4);
            if (magic.length < 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4) {
                throw Problem.invalid(name + " is not a jar (it does not start with a zip header)").toException();
            }
        }
        byte[] manifestBytes = null;
        byte[] jarManifest = null;
        boolean servedUnchanged = true; // see CheckedClasses
        Map<String, byte[]> classes = new HashMap<>();
        Map<String, byte[]> sources = new TreeMap<>();
        Map<String, byte[]> libraries = new TreeMap<>();
        PackageContents contents = null;
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            if (zip.size() > limits.maxEntries()) {
                throw Problem.invalid(name + " has " + zip.size() + " entries; the limit is "
                        + limits.maxEntries()).toException();
            }
            if (!trusted && signatures.needsContents(zip.getEntry(PackageSignature.PATH) != null)) {
                contents = new PackageContents();
            }
            long expanded = 0;
            byte[] buffer = new byte[64 * 1024];
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry entry = entries.nextElement();
                if (entry.isDirectory()) {
                    if (contents != null) {
                        contents.add(entry.getName(), NO_BYTES_SHA256);
                    }
                    continue;
                }
                boolean signature = contents != null && entry.getName().equals(PackageSignature.PATH);
                MessageDigest entryDigest = contents != null && !signature ? PackageContents.newDigest() : null;
                servedUnchanged &= !isVersionedOrJarSignature(entry.getName());
                boolean keep = entry.getName().equals(ExtensionManifest.PATH) || entry.getName().endsWith(".class")
                        || entry.getName().equalsIgnoreCase(JAR_MANIFEST) || signature
                        || SourceFiles.isSource(entry.getName()) || SourceFiles.isLibrary(entry.getName());
                // the size in the header only sizes the buffer; the limits count what is actually inflated
                java.io.ByteArrayOutputStream kept = keep
                        ? new java.io.ByteArrayOutputStream((int) Math.min(Math.max(entry.getSize(), 64), 1 << 20))
                        : null;
                try (InputStream in = zip.getInputStream(entry)) {
                    for (int n; (n = in.read(buffer)) > 0; ) {
                        expanded += n;
                        if (expanded > limits.maxExpandedBytes()) {
                            throw Problem.invalid(name + " expands to more than " + limits.maxExpandedBytes()
                                    + " bytes (at entry " + entry.getName() + "); refusing a possible zip bomb")
                                    .toException();
                        }
                        if (kept != null) {
                            kept.write(buffer, 0, n);
                        }
                        if (entryDigest != null) {
                            entryDigest.update(buffer, 0, n);
                        }
                    }
                }
                if (signature) {
                    contents.signature(kept.toByteArray());
                } else if (entryDigest != null) {
                    contents.add(entry.getName(), entryDigest.digest());
                }
                if (entry.getName().equals(ExtensionManifest.PATH)) {
                    manifestBytes = kept.toByteArray();
                } else if (entry.getName().equalsIgnoreCase(JAR_MANIFEST)) {
                    jarManifest = kept.toByteArray();
                } else if (SourceFiles.isSource(entry.getName())) {
                    sources.put(entry.getName(), kept.toByteArray());
                } else if (SourceFiles.isLibrary(entry.getName())) {
                    libraries.put(entry.getName(), kept.toByteArray());
                } else if (kept != null && !signature) {
                    classes.put(entry.getName(), kept.toByteArray());
                }
            }
        } catch (ZipException | java.io.EOFException e) {
            throw Problem.invalid(name + " is not a readable jar (" + e.getMessage()
                    + "); it may be truncated or corrupt").toException();
        }
        if (contents != null) {
            verifySignature(contents, name);
        }
        if (classes.isEmpty() && !sources.isEmpty()) {
            if (compiled == null) {
                throw Problem.precondition(name + " holds Java sources and no classes, and this runtime does not"
                        + " compile sources; deploy the jar they build to").toException();
            }
            SourceFiles source = SourceFiles.read(manifestBytes, sources, libraries, limits.maxSourceBytes(),
                    limits.maxExpandedBytes(), limits.maxEntries(), name);
            return new Inspected(source.manifest(), CheckedClasses.NONE, source);
        }
        if (manifestBytes == null && !sources.isEmpty()) {
            throw Problem.invalid(name + " holds both Java sources and class files, and no " + ExtensionManifest.PATH
                    + "; send the sources alone (the runtime compiles them) or a jar with its manifest").toException();
        }
        if (manifestBytes == null) {
            throw Problem.invalid(name + " has no " + ExtensionManifest.PATH
                    + "; every extension declares its id, version, entry class and capabilities there").toException();
        }
        ExtensionManifest manifest = ManifestReader.read(manifestBytes, name);
        List<String> forbidden = new ArrayList<>();
        String ownPackage = ownPackage(manifest.entryClass());
        classes.forEach((entry, bytes) -> {
            if (entry.startsWith(ownPackage)) {
                forbiddenCalls(bytes, entry, forbidden);
            }
        });
        refuseExits(forbidden, manifest, name);
        return new Inspected(manifest, servedUnchanged ? lend(classes, jarManifest) : CheckedClasses.NONE, null);
    }

    /** Entries that make a jar serve a class other than its plain entry, or with signers attached. */
    private static boolean isVersionedOrJarSignature(String entry) {
        String name = entry.toUpperCase(Locale.ROOT); // as JarFile matches them
        return name.startsWith("META-INF/VERSIONS/") || name.startsWith("META-INF/")
                && (name.endsWith(".SF") || name.endsWith(".RSA") || name.endsWith(".DSA") || name.endsWith(".EC"));
    }

    private static CheckedClasses lend(Map<String, byte[]> classes, byte[] jarManifest) {
        try {
            return new CheckedClasses(Collections.unmodifiableMap(classes), jarManifest == null ? null
                    : new Manifest(new ByteArrayInputStream(jarManifest)));
        } catch (IOException unreadable) {
            return CheckedClasses.NONE; // the jar's loader meets the same manifest, and answers for it
        }
    }

    /** Before anything of the package is believed, the manifest included. */
    private void verifySignature(PackageContents contents, String name) {
        if (signatures.verify(contents) instanceof PackageVerifier.Refused refused) {
            String message = name + " was refused: " + refused.message();
            throw (refused.reason() == PackageVerifier.Reason.TAMPERED ? Problem.invalid(message)
                    : Problem.precondition(message)).toException();
        }
    }

    /**
     * The extension's own code: the entry class's package and those below it. Bundled libraries are not
     * checked: many carry exit paths they never take (Guava's exiting uncaught-exception handler, CLI mains),
     * and only process isolation can truly contain a library that exits.
     */
    private static String ownPackage(String entryClass) {
        int dot = entryClass.lastIndexOf('.');
        return dot < 0 ? "" : entryClass.substring(0, dot + 1).replace('.', '/');
    }

    /** Refuses the exit calls found, unless the extension runs in a child JVM, where an exit ends only the child. */
    static void refuseExits(List<String> found, ExtensionManifest manifest, String name) {
        if (!found.isEmpty() && !manifest.processIsolation()) {
            throw Problem.precondition(manifest.coordinates() + " in " + name + " would end the runtime's process: "
                    + String.join(", ", found) + ". Extensions loaded in-process must not exit the JVM; "
                    + "throw a CapabilityException instead, or ask for \"isolation\": \"process\"").toException();
        }
    }

    static void forbiddenCalls(byte[] classFile, String entry, List<String> found) {
        try {
            for (ClassFileScanner.MethodRef call : ClassFileScanner.scan(classFile).methods()) {
                if (FORBIDDEN_CALLS.contains(call)) {
                    found.add(call + " called in " + entry);
                }
            }
        } catch (IOException notAClass) {
            // a resource that merely ends in .class; the loader reports it if anything needs it
        }
    }

    private static long copyWithin(InputStream in, OutputStream out, long max, String name) throws IOException {
        byte[] buffer = new byte[64 * 1024];
        long total = 0;
        for (int n; (n = in.read(buffer)) > 0; ) {
            total += n;
            if (total > max) {
                throw Problem.exhausted(name + " is larger than the package limit of " + max + " bytes")
                        .toException();
            }
            out.write(buffer, 0, n);
        }
        return total;
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
