package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.pkg.SourceCompiler;
import io.capmesh.signing.PackageSigner;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.SigningKeys;
import io.capmesh.signing.TrustedKeys;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Packages of Java sources, compiled in the runtime: deployed, cached, refused with every reason named. */
class SourcePackagesTest {

    private static final String GREETER = """
            /* capmesh:extension.json
            {"id": "greeter", "version": "%s", "entryClass": "demo.Greeter",
             "capabilities": [{"name": "demo.greet", "version": "1.0.0", "methods": ["greet"]}]}
            */
            package demo;

            import io.capmesh.extension.api.TextFunction;

            public class Greeter extends TextFunction {
                @Override
                protected String apply(String name) {
                    return "%s, " + name;
                }
            }
            """;

    @TempDir
    Path data;

    @Test
    void aOneFileFunctionDeploysAndAnswers() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello"))));
            assertThat(TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada"))).isEqualTo("hello, Ada");

            runtime.swap(zip(Map.of("demo/Greeter.java", greeter("1.1.0", "hi"))));
            assertThat(TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada"))).isEqualTo("hi, Ada");
            // compiled in the runtime, the old version still unloads with its loader collected
            assertThat(runtime.unload("greeter").getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
        }
    }

    @Test
    void identicalSourcesLoadFromTheCacheAfterARestartWithoutCompiling() throws Exception {
        byte[] sources = zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello")));
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(sources);
        }
        assertThat(compiledJars()).hasSize(1);
        // a compile could not finish within a nanosecond: only the cache can serve now
        RuntimeSettings noTimeToCompile = RuntimeSettings.defaults(data).withPackageLimits(
                new PackageReader.Limits(64L << 20, 256L << 20, 20_000, 1L << 20, Duration.ofNanos(1)));
        try (TestRuntime restarted = new TestRuntime(noTimeToCompile)) {
            assertThat(TestRuntime.text(restarted.invoke("demo.greet", "greet", "again"))).isEqualTo("hello, again");
            restarted.unload("greeter");
            restarted.deploy(sources); // a re-deploy of the same sources
            assertThat(TestRuntime.text(restarted.invoke("demo.greet", "greet", "once more")))
                    .isEqualTo("hello, once more");
            refused(restarted, zip(Map.of("demo/Greeter.java", greeter("1.0.1", "new"))),
                    Status.Code.DEADLINE_EXCEEDED, "did not compile within 1 ns", "nothing was deployed");
        }
        assertThat(compiledJars()).hasSize(1);
    }

    @Test
    void theSweepRemovesWhatNoExtensionHasUsedForLongAndKeepsWhatIsLoaded() throws Exception {
        List<Path> told = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.host().runtime().addListener(new RuntimeListener() {
                @Override
                public void swept(List<Path> files) {
                    told.addAll(files);
                }
            });
            runtime.deploy(zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello"))));
            runtime.swap(zip(Map.of("demo/Greeter.java", greeter("1.1.0", "hi"))));
            assertThat(compiledJars()).hasSize(2);
            assertThat(runtime.host().sweep()).as("nothing is a day old yet").isEmpty();

            olderBy(Duration.ofHours(25), data.resolve("compiled"), data.resolve("jars"));
            List<Path> swept = runtime.host().sweep();
            // 1.0.0's compiled jar and the sources it came from; 1.1.0 serves, so its files stay
            assertThat(swept).hasSize(2).allSatisfy(file -> assertThat(file).doesNotExist());
            assertThat(swept).extracting(file -> file.getParent().getFileName().toString())
                    .containsExactlyInAnyOrder("compiled", "jars");
            assertThat(told).containsExactlyInAnyOrderElementsOf(swept);
            assertThat(compiledJars()).hasSize(1);
            assertThat(TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada"))).isEqualTo("hi, Ada");
        }
        try (TestRuntime restarted = new TestRuntime(RuntimeSettings.defaults(data))) {
            assertThat(TestRuntime.text(restarted.invoke("demo.greet", "greet", "again"))).isEqualTo("hi, again");
        }
    }

    private static void olderBy(Duration age, Path... directories) throws IOException {
        for (Path directory : directories) {
            try (Stream<Path> files = Files.list(directory)) {
                for (Path file : files.toList()) {
                    Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.from(
                            Files.getLastModifiedTime(file).toInstant().minus(age)));
                }
            }
        }
    }

    @Test
    void severalSourcesWithAManifestAndABundledJar() throws Exception {
        Map<String, byte[]> helper = new SourceCompiler(getClass().getClassLoader(), List.of(), Duration.ofSeconds(30))
                .compile(Map.of("lib/Shout.java", "package lib; public final class Shout {"
                        + " public static String loud(String s) { return s.toUpperCase(); } }"), Map.of(), "helper")
                .classes();
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("META-INF/capmesh/extension.json", utf8("""
                {"id": "shouter", "version": "1.0.0", "entryClass": "demo.shout.Shouter",
                 "capabilities": [{"name": "demo.shout", "version": "1.0.0", "methods": ["shout"]}]}"""));
        entries.put("src/demo/shout/Shouter.java", utf8("""
                package demo.shout;
                public class Shouter extends io.capmesh.extension.api.TextFunction {
                    @Override protected String apply(String s) { return demo.shout.util.Marks.add(lib.Shout.loud(s)); }
                }"""));
        entries.put("src/demo/shout/util/Marks.java", utf8("""
                package demo.shout.util;
                public final class Marks { public static String add(String s) { return s + "!"; } }"""));
        entries.put("lib/shout.jar", zipBytes(helper));
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(zip(entries));
            assertThat(TestRuntime.text(runtime.invoke("demo.shout", "shout", "hey"))).isEqualTo("HEY!");
        }
    }

    @Test
    void aBundledJarsResourcesAndServiceFilesComeAlong() throws Exception {
        Map<String, byte[]> first = new LinkedHashMap<>();
        first.put("greetings.properties", utf8("greeting=bonjour"));
        first.put("META-INF/services/demo.Greeting", utf8("one.Impl"));
        first.put("module-info.class", new byte[] {1, 2, 3});
        Map<String, byte[]> second = new LinkedHashMap<>();
        second.put("META-INF/services/demo.Greeting", utf8("two.Impl"));
        second.put("module-info.class", new byte[] {4, 5, 6});
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("demo/Greeter.java", utf8(greeter("1.0.0", "hello").replace("return \"hello, \" + name;", """
                try (var in = Greeter.class.getResourceAsStream("/greetings.properties");
                     var services = Greeter.class.getResourceAsStream("/META-INF/services/demo.Greeting")) {
                    var settings = new java.util.Properties();
                    settings.load(in);
                    return settings.getProperty("greeting") + ", " + name + " "
                            + new String(services.readAllBytes()).replace('\\n', '+');
                }""").replace("protected String apply(String name) {", "protected String apply(String name)"
                + " throws java.io.IOException {")));
        entries.put("lib/first.jar", zipBytes(first));
        entries.put("lib/second.jar", zipBytes(second));
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(zip(entries));
            assertThat(TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada")))
                    .isEqualTo("bonjour, Ada one.Impl+two.Impl");
        }
    }

    @Test
    void aCachedCompileAgainstHostClassesThatChangedIsCompiledAgain() throws Exception {
        byte[] sources = zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello")));
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(sources);
        }
        Path compiled = compiledJars().get(0);
        String against = readEntry(compiled, "META-INF/capmesh/compiled-against");
        assertThat(against).contains("io/capmesh/extension/api/TextFunction.class");
        // as if the host's extension API had changed since: the digest no longer matches
        rewriteEntry(compiled, "META-INF/capmesh/compiled-against", against.replaceFirst("^[0-9a-f]{64}",
                "0".repeat(64)));
        RuntimeSettings noTimeToCompile = RuntimeSettings.defaults(data).withPackageLimits(
                new PackageReader.Limits(64L << 20, 256L << 20, 20_000, 1L << 20, Duration.ofNanos(1)));
        try (TestRuntime restarted = new TestRuntime(noTimeToCompile)) {
            assertThat(restarted.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList())
                    .as("not served from a cache made against other host classes").isEmpty();
        }
        try (TestRuntime restarted = new TestRuntime(RuntimeSettings.defaults(data))) {
            assertThat(TestRuntime.text(restarted.invoke("demo.greet", "greet", "again"))).isEqualTo("hello, again");
        }
        assertThat(readEntry(compiledJars().get(0), "META-INF/capmesh/compiled-against")).isEqualTo(against);
    }

    @Test
    void aSourceFunctionRunsInAProcessOfItsOwn() throws Exception {
        String isolated = greeter("1.0.0", "hello").replace("\"entryClass\": \"demo.Greeter\",",
                "\"entryClass\": \"demo.Greeter\", \"isolation\": \"process\",").replace(
                "return \"hello, \" + name;", "return \"hello from \" + ProcessHandle.current().pid();");
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            runtime.deploy(zip(Map.of("demo/Greeter.java", isolated)));
            String answer = TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada"));
            assertThat(answer).startsWith("hello from ").isNotEqualTo("hello from " + ProcessHandle.current().pid());
        }
    }

    @Test
    void aSyntaxErrorListsEveryDiagnosticAndChangesNothing() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            String broken = greeter("1.0.0", "hello").replace("return \"hello, \" + name;", "return name +;")
                    .replace("extends TextFunction", "extends TextFunction implements Missing");
            refused(runtime, zip(Map.of("demo/Greeter.java", broken)), Status.Code.INVALID_ARGUMENT,
                    "does not compile", "demo/Greeter.java:9:54: Missing cannot be resolved to a type",
                    "demo/Greeter.java:12:", "Syntax error");
        }
    }

    @Test
    void aHostClassThatIsNotSharedDoesNotCompile() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            String peeking = greeter("1.0.0", "hello").replace("return \"hello, \" + name;",
                    "return io.capmesh.runtime.RuntimeHost.class.getName();");
            refused(runtime, zip(Map.of("demo/Greeter.java", peeking)), Status.Code.INVALID_ARGUMENT,
                    "demo/Greeter.java:12:", "io.capmesh.runtime cannot be resolved");
        }
    }

    @Test
    void aClassInASharedPackagesNamespaceIsRefused() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("META-INF/capmesh/extension.json", utf8("""
                    {"id": "greeter", "version": "1.0.0", "entryClass": "demo.Greeter",
                     "capabilities": [{"name": "demo.greet", "version": "1.0.0", "methods": ["greet"]}]}"""));
            entries.put("demo/Greeter.java", utf8(greeter("1.0.0", "hello")));
            entries.put("io/grpc/Status2.java", utf8("package io.grpc; public class Status2 {}"));
            refused(runtime, zip(entries), Status.Code.INVALID_ARGUMENT, "declares io.grpc.Status2",
                    "a package the host shares with every extension");
        }
    }

    @Test
    void tooMuchSourceIsRefused() throws Exception {
        RuntimeSettings small = RuntimeSettings.defaults(data).withPackageLimits(
                new PackageReader.Limits(64L << 20, 256L << 20, 20_000, 100, Duration.ofSeconds(20)));
        try (TestRuntime runtime = new TestRuntime(small)) {
            refused(runtime, zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello"))),
                    Status.Code.RESOURCE_EXHAUSTED, "more than 100 bytes of sources", "max-source-size");
        }
    }

    @Test
    void aSourceNameThatLeavesThePackageIsRefused() throws Exception {
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data))) {
            refused(runtime, zip(Map.of("../demo/Greeter.java", greeter("1.0.0", "hello"))),
                    Status.Code.INVALID_ARGUMENT, "'../demo/Greeter.java' leaves the package's directory");
            refused(runtime, zip(Map.of("/tmp/Greeter.java", greeter("1.0.0", "hello"))),
                    Status.Code.INVALID_ARGUMENT, "'/tmp/Greeter.java' leaves the package's directory");
        }
    }

    @Test
    void aCompilePastItsDeadlineIsCancelled() throws Exception {
        RuntimeSettings hurried = RuntimeSettings.defaults(data).withPackageLimits(
                new PackageReader.Limits(64L << 20, 256L << 20, 20_000, 1L << 20, Duration.ofNanos(1)));
        try (TestRuntime runtime = new TestRuntime(hurried)) {
            refused(runtime, zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello"))),
                    Status.Code.DEADLINE_EXCEEDED, "did not compile within", "compile-timeout");
        }
        assertThat(compiledJars()).isEmpty();
    }

    @Test
    void aSignedSourcePackageChangedAfterSigningIsRefused() throws Exception {
        KeyPair key = SigningKeys.generate(SignatureAlgorithm.ED25519);
        RuntimeSettings signedOnly = RuntimeSettings.defaults(data).withSignatures(
                new PackageVerifier(SignaturePolicy.REQUIRED, TrustedKeys.of(List.of(key.getPublic()))));
        byte[] signed = PackageSigner.sign(zip(Map.of("demo/Greeter.java", greeter("1.0.0", "hello"))), key);
        byte[] changed = replaceEntry(signed, "demo/Greeter.java", greeter("1.0.0", "gotcha"));
        try (TestRuntime runtime = new TestRuntime(signedOnly)) {
            refused(runtime, changed, Status.Code.INVALID_ARGUMENT, "was refused");
            runtime.deploy(signed);
            assertThat(TestRuntime.text(runtime.invoke("demo.greet", "greet", "Ada"))).isEqualTo("hello, Ada");
        }
    }

    private static void refused(TestRuntime runtime, byte[] pkg, Status.Code code, String... messageParts) {
        List<String> before = loaded(runtime);
        ThrowingCallable deploy = () -> runtime.deploy(pkg);
        assertThatThrownBy(deploy).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).contains(messageParts);
        });
        assertThat(loaded(runtime)).as("extensions after a refused deploy").isEqualTo(before);
    }

    private static List<String> loaded(TestRuntime runtime) {
        return runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                .map(e -> e.getManifest().getId() + "@" + e.getManifest().getVersion()).toList();
    }

    private List<Path> compiledJars() throws IOException {
        Path compiled = data.resolve("compiled");
        if (!Files.isDirectory(compiled)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(compiled)) {
            return files.filter(file -> file.toString().endsWith(".jar")).toList();
        }
    }

    private static String greeter(String version, String greeting) {
        return GREETER.formatted(version, greeting);
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] zip(Map<String, ?> entries) throws IOException {
        Map<String, byte[]> bytes = new LinkedHashMap<>();
        entries.forEach((name, content) -> bytes.put(name, content instanceof String text ? utf8(text)
                : (byte[]) content));
        return zipBytes(bytes);
    }

    private static byte[] zipBytes(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        return out.toByteArray();
    }

    private static byte[] replaceEntry(byte[] jar, String name, String content) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (var in = new java.util.zip.ZipInputStream(new java.io.ByteArrayInputStream(jar))) {
            for (ZipEntry entry = in.getNextEntry(); entry != null; entry = in.getNextEntry()) {
                entries.put(entry.getName(), entry.getName().equals(name) ? utf8(content) : in.readAllBytes());
            }
        }
        return zipBytes(entries);
    }

    private static String readEntry(Path jar, String name) throws IOException {
        try (java.util.zip.ZipFile zip = new java.util.zip.ZipFile(jar.toFile())) {
            return new String(zip.getInputStream(zip.getEntry(name)).readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static void rewriteEntry(Path jar, String name, String content) throws IOException {
        Files.write(jar, replaceEntry(Files.readAllBytes(jar), name, content));
    }
}
