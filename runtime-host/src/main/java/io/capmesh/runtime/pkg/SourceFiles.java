package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * A source package as its checks read it: Java sources ({@code .java} entries, in any folders), the manifest, and
 * what the jars it bundles hold ({@code lib/*.jar}), merged as a shade would. The manifest is {@code META-INF/capmesh/extension.json},
 * or, for a package of one source file, a comment that opens the file:
 * <pre>
 * /* capmesh:extension.json
 * {"id": "greeter", "version": "1.0.0", "entryClass": "demo.Greeter", "capabilities": [...]}
 * *&#47;
 * </pre>
 *
 * @param manifest  what the package declares
 * @param sources   file name in the package to its text, sorted by name
 * @param bundled   the bundled jars' class files, by entry name
 * @param resources the bundled jars' other files (their service declarations merged), by entry name
 */
public record SourceFiles(ExtensionManifest manifest, Map<String, String> sources, Map<String, byte[]> bundled,
                          Map<String, byte[]> resources) {

    /** Where a package's bundled jars are. */
    public static final String LIBRARIES = "lib/";

    private static final Pattern HEADER = Pattern.compile("\\A\\s*/\\*\\s*capmesh:extension\\.json\\s*(.*?)\\*/",
            Pattern.DOTALL);

    /** Whether an entry of a package is a Java source. */
    public static boolean isSource(String entry) {
        return entry.endsWith(".java") && !entry.startsWith("META-INF/");
    }

    /** Whether an entry of a package is a bundled jar. */
    public static boolean isLibrary(String entry) {
        return entry.startsWith(LIBRARIES) && entry.endsWith(".jar");
    }

    /**
     * Checks and reads what a source package's entries hold; fails with INVALID_ARGUMENT (or RESOURCE_EXHAUSTED
     * for sources over the limit) and says what to change.
     *
     * @param manifest      the bytes of {@code META-INF/capmesh/extension.json}, or null
     * @param sources       the {@code .java} entries' bytes, by entry name
     * @param libraries     the bundled jars' bytes, by entry name
     * @param maxSourceSize the most bytes all sources together may have
     * @param maxExpanded   the most bytes the bundled jars may inflate to
     * @param maxEntries    the most entries the bundled jars may hold together
     */
    public static SourceFiles read(byte[] manifest, Map<String, byte[]> sources, Map<String, byte[]> libraries,
                                   long maxSourceSize, long maxExpanded, int maxEntries, String name) {
        long total = 0;
        Map<String, String> texts = new TreeMap<>();
        for (Map.Entry<String, byte[]> source : sources.entrySet()) {
            checkName(source.getKey(), name);
            total += source.getValue().length;
            if (total > maxSourceSize) {
                throw Problem.exhausted(name + " has more than " + maxSourceSize + " bytes of sources"
                        + " (capmesh.runtime.max-source-size); build a jar of it instead").toException();
            }
            texts.put(source.getKey(), utf8(source.getValue(), source.getKey(), name));
        }
        ExtensionManifest declared;
        if (manifest != null) {
            declared = ManifestReader.read(manifest, name);
        } else if (texts.size() == 1) {
            Map.Entry<String, String> only = texts.entrySet().iterator().next();
            Matcher header = HEADER.matcher(only.getValue());
            if (!header.find()) {
                throw Problem.invalid(name + " has no " + ExtensionManifest.PATH + ", and " + only.getKey()
                        + " does not open with a /* capmesh:extension.json {...} */ comment holding the manifest")
                        .toException();
            }
            declared = ManifestReader.read(header.group(1).getBytes(StandardCharsets.UTF_8), name + " ("
                    + only.getKey() + ")");
        } else {
            throw Problem.invalid(name + " has " + texts.size() + " sources and no " + ExtensionManifest.PATH
                    + "; a manifest in a source's opening comment is for a package of one source").toException();
        }
        Unpacked unpacked = new Unpacked(maxExpanded, maxEntries, name);
        for (Map.Entry<String, byte[]> library : libraries.entrySet()) {
            checkName(library.getKey(), name);
            unpacked.add(library.getKey(), library.getValue());
        }
        return new SourceFiles(declared, Collections.unmodifiableMap(texts), Map.copyOf(unpacked.classes),
                Map.copyOf(unpacked.resources));
    }

    /** Names are only ever shown in messages, yet one that climbs out of the package says it was not made here. */
    private static void checkName(String entry, String name) {
        boolean climbs;
        try {
            Path path = Path.of(entry);
            climbs = path.isAbsolute() || entry.startsWith("/") || entry.contains("\\")
                    || path.normalize().startsWith("..") || !path.normalize().toString().equals(entry);
        } catch (InvalidPathException e) {
            climbs = true;
        }
        if (climbs) {
            throw Problem.invalid(name + ": the entry name '" + entry + "' leaves the package's directory or is not"
                    + " a plain relative path; name sources like com/acme/Greeter.java").toException();
        }
    }

    private static String utf8(byte[] bytes, String entry, String name) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw Problem.invalid(name + ": " + entry + " is not UTF-8 text").toException();
        }
    }

    /** The bundled jars' entries, as a shade would merge them, within the package's limits. */
    private static final class Unpacked {
        private final Map<String, byte[]> classes = new LinkedHashMap<>();
        private final Map<String, byte[]> resources = new LinkedHashMap<>();
        private final long maxExpanded;
        private final int maxEntries;
        private final String name;
        private long expanded;
        private int entries;

        Unpacked(long maxExpanded, int maxEntries, String name) {
            this.maxExpanded = maxExpanded;
            this.maxEntries = maxEntries;
            this.name = name;
        }

        void add(String jar, byte[] bytes) {
            List<String> twice = new ArrayList<>();
            try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
                for (ZipEntry entry = zip.getNextEntry(); entry != null; entry = zip.getNextEntry()) {
                    if (++entries > maxEntries) {
                        throw Problem.invalid(name + ": the bundled jars hold more than " + maxEntries
                                + " entries (capmesh.runtime.max-package-entries)").toException();
                    }
                    String path = entry.getName();
                    if (entry.isDirectory() || !kept(path)) {
                        continue;
                    }
                    byte[] content = zip.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, maxExpanded - expanded + 1));
                    expanded += content.length;
                    if (expanded > maxExpanded) {
                        throw Problem.invalid(name + ": the bundled jars expand to more than " + maxExpanded
                                + " bytes (at " + jar + "!" + path + ")").toException();
                    }
                    if (path.endsWith(".class")) {
                        if (classes.putIfAbsent(path, content) != null) {
                            twice.add(path);
                        }
                    } else if (path.startsWith("META-INF/services/") && resources.containsKey(path)) {
                        resources.merge(path, content, SourceFiles::lines);
                    } else {
                        resources.putIfAbsent(path, content);
                    }
                }
            } catch (IOException | IllegalArgumentException e) { // the latter: an entry name that is not UTF-8
                throw Problem.invalid(name + ": the bundled " + jar + " is not a readable jar (" + e.getMessage()
                        + ")").toException();
            }
            if (!twice.isEmpty()) {
                throw Problem.invalid(name + ": " + jar + " holds classes another bundled jar holds too: "
                        + String.join(", ", twice.subList(0, Math.min(5, twice.size())))).toException();
            }
        }

        /** A jar's own metadata, signatures and module descriptor describe that jar, not the package. */
        private static boolean kept(String path) {
            String upper = path.toUpperCase(java.util.Locale.ROOT);
            return !path.equals("module-info.class") && !upper.equals("META-INF/MANIFEST.MF")
                    && !upper.startsWith("META-INF/VERSIONS/") && !upper.startsWith("META-INF/MAVEN/")
                    && !(upper.startsWith("META-INF/") && (upper.endsWith(".SF") || upper.endsWith(".RSA")
                    || upper.endsWith(".DSA") || upper.endsWith(".EC")));
        }
    }

    private static byte[] lines(byte[] first, byte[] second) {
        byte[] joined = new byte[first.length + 1 + second.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        joined[first.length] = '\n';
        System.arraycopy(second, 0, joined, first.length + 1, second.length);
        return joined;
    }
}
