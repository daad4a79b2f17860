package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.json.JsonMapper;

/** Parses and checks {@code META-INF/capmesh/extension.json}; every problem found is reported at once. */
public final class ManifestReader {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .build();

    static final Pattern ID = Pattern.compile("[a-z0-9]([a-z0-9.-]{0,62}[a-z0-9])?");
    /** The official semver 2.0.0 pattern. */
    static final Pattern SEMVER = Pattern.compile(
            "(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)"
                    + "(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
                    + "(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?");
    static final Pattern CAPABILITY = Pattern.compile("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+");
    private static final Pattern TYPED_METHOD =
            Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*/[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern METHOD = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");
    private static final Pattern CLASS_NAME =
            Pattern.compile("([\\p{L}_$][\\p{L}\\p{N}_$]*\\.)*[\\p{L}_$][\\p{L}\\p{N}_$]*");

    private ManifestReader() {
    }

    /** Reads a manifest, or fails with INVALID_ARGUMENT listing every problem. */
    public static ExtensionManifest read(byte[] json, String where) {
        if (json.length == 0 || new String(json, java.nio.charset.StandardCharsets.UTF_8).isBlank()) {
            throw Problem.invalid(where + ": the manifest " + ExtensionManifest.PATH + " is empty").toException();
        }
        ExtensionManifest manifest;
        try {
            manifest = JSON.readValue(json, ExtensionManifest.class);
        } catch (JacksonException e) {
            throw Problem.invalid(where + ": the manifest " + ExtensionManifest.PATH + " is not valid: "
                    + e.getOriginalMessage()).toException();
        }
        if (manifest == null) {
            throw Problem.invalid(where + ": the manifest " + ExtensionManifest.PATH
                    + " is JSON null; it must be an object with id, version, entryClass and capabilities").toException();
        }
        List<String> problems = check(manifest);
        if (!problems.isEmpty()) {
            throw Problem.invalid(where + ": the manifest " + ExtensionManifest.PATH + " has "
                    + problems.size() + " problem(s): " + String.join("; ", problems)).toException();
        }
        return manifest;
    }

    public static byte[] write(ExtensionManifest manifest) {
        return JSON.writeValueAsBytes(manifest);
    }

    static List<String> check(ExtensionManifest m) {
        List<String> problems = new ArrayList<>();
        expect(problems, m.id(), ID, "id", "lower-case letters, digits, '.' and '-', e.g. core-json");
        expect(problems, m.version(), SEMVER, "version", "a semver version, e.g. 1.2.0");
        expect(problems, m.entryClass(), CLASS_NAME, "entryClass", "a fully qualified class name");
        if (m.capabilities().isEmpty()) {
            problems.add("capabilities must name at least one capability");
        }
        for (ExtensionManifest.Capability c : m.capabilities()) {
            String at = "capability " + c.name();
            expect(problems, c.name(), CAPABILITY, "capability name", "dotted lower-case, e.g. core.json");
            expect(problems, c.version(), SEMVER, at + " version", "a semver version, e.g. 1.0.0");
            if (c.methods().isEmpty()) {
                problems.add(at + " must list at least one method");
            }
            c.methods().stream().filter(method -> method == null || !METHOD.matcher(method).matches())
                    .forEach(method -> problems.add(at + " has an invalid method name '" + method + "'"));
            c.nonBlocking().stream().filter(method -> method == null || (method.contains("/")
                            ? !TYPED_METHOD.matcher(method).matches() : !c.methods().contains(method)))
                    .forEach(method -> problems.add(at + " declares '" + method + "' non-blocking, but it is neither one"
                            + " of its methods nor a typed gRPC method (package.Service/Method)"));
        }
        if (m.capabilities().stream().map(ExtensionManifest.Capability::name).distinct().count()
                != m.capabilities().size()) {
            problems.add("a capability is listed twice");
        }
        for (ExtensionManifest.Dependency d : m.dependencies()) {
            expect(problems, d.capability(), CAPABILITY, "dependency", "dotted lower-case, e.g. core.json");
        }
        if (!m.isolation().equals("in-process") && !m.isolation().equals("process")) {
            problems.add("isolation must be 'in-process' or 'process', not '" + m.isolation() + "'");
        }
        return problems;
    }

    private static void expect(List<String> problems, String value, Pattern pattern, String field, String hint) {
        if (value == null || value.isBlank()) {
            problems.add(field + " is missing (" + hint + ")");
        } else if (!pattern.matcher(value).matches()) {
            problems.add(field + " '" + value + "' is not valid (" + hint + ")");
        }
    }
}
