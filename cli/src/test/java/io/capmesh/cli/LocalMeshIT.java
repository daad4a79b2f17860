package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.capmesh.extensions.crypto.v1.ExportPublicKeyRequest;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.signing.PackageContents;
import io.capmesh.signing.PackageSignature;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.TrustedKeys;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command line against a real local mesh that its own {@code up} starts: five JVMs from the packaged jars, in a
 * temporary directory on free loopback ports, one mesh for the whole class. Each command's happy path, and its
 * answer to bad input with the documented exit code; {@code down} leaves no process behind.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class LocalMeshIT {

    private static final Path JARS = Path.of(System.getProperty("capmesh.jars"));
    private static final Path GUAVA = Path.of(System.getProperty("capmesh.test.extensions"))
            .resolve("capmesh-ext-legacy-guava.jar");

    @TempDir
    static Path dir;

    private static Path mesh;
    private static int basePort;
    private static String broker;
    private static LocalMesh.State started;

    @BeforeAll
    static void up() throws Exception {
        mesh = dir.resolve("mesh");
        basePort = freeBasePort();
        broker = "127.0.0.1:" + basePort;
        Cli.Run up = Cli.run("up", "--dir", mesh.toString(), "--base-port", String.valueOf(basePort),
                "--jars", JARS.toString(), "--timeout", "240s");
        assertThat(up.exit()).as(up.toString()).isZero();
        assertThat(up.out()).contains("The mesh is up", "broker", "core-runtime", "data-runtime", "ml-runtime",
                "crypto-runtime", "127.0.0.1:" + (basePort + 4), mesh.resolve("logs").toString());
        started = LocalMesh.in(mesh).state().orElseThrow();
        assertThat(started.members()).hasSize(5);
    }

    @AfterAll
    static void down() {
        if (mesh == null) {
            return;
        }
        List<LocalMesh.Member> members = started != null ? started.members() : List.of();
        Cli.Run down = Cli.run("down", "--dir", mesh.toString());
        assertThat(down.exit()).as(down.toString()).isZero();
        assertThat(members).allSatisfy(m -> assertThat(ProcessHandle.of(m.pid()).filter(ProcessHandle::isAlive))
                .as(m.service() + " pid " + m.pid()).isEmpty());
        if (!members.isEmpty()) {
            assertThat(down.out()).contains("core-runtime", "broker", "stopped").doesNotContain("still running");
        }
        assertThat(LocalMesh.in(mesh).stateFile()).doesNotExist();
        Cli.Run health = Cli.run("health", "--broker", broker);
        assertThat(health.exit()).as(health.toString()).isEqualTo(ExitCode.UNREACHABLE);
    }

    @Test
    @Order(1)
    void upAgainSaysTheMeshIsAlreadyUp() {
        Cli.Run again = Cli.run("up", "--dir", mesh.toString(), "--base-port", String.valueOf(basePort),
                "--jars", JARS.toString(), "--json");
        assertThat(again.exit()).as(again.toString()).isZero();
        JsonObject json = JsonParser.parseString(again.out()).getAsJsonObject();
        assertThat(json.get("alreadyUp").getAsBoolean()).isTrue();
        assertThat(json.getAsJsonObject("mesh").get("broker").getAsString()).isEqualTo(broker);
    }

    @Test
    @Order(2)
    void upRefusesATakenPortAndStopsWhatItStartedWhenAServiceFails() throws Exception {
        int base = freeBasePort();
        try (ServerSocket taken = new ServerSocket(base + 2, 1, InetAddress.getLoopbackAddress())) {
            Cli.Run up = Cli.run("up", "--dir", dir.resolve("taken").toString(), "--base-port", String.valueOf(base),
                    "--jars", JARS.toString());
            assertThat(up.exit()).as(up.toString()).isEqualTo(ExitCode.FAILED);
            assertThat(up.err()).contains("port " + (base + 2) + " (data-runtime gRPC) is taken", "--base-port");
        }

        // a core runtime jar that is no jar: the broker starts, the core runtime dies at once
        Path jars = Files.createDirectories(JARS.resolveSibling("broken-jars")); // links outside the temp dir
        for (LocalMesh.Service service : LocalMesh.Service.values()) {
            Path jar = jars.resolve(service.jarName());
            Files.deleteIfExists(jar);
            if (service == LocalMesh.Service.CORE) {
                Files.writeString(jar, "not a jar");
            } else {
                Files.createSymbolicLink(jar, JARS.resolve(service.jarName()));
            }
        }
        Path exitGuard = jars.resolve(LocalMesh.EXIT_GUARD_JAR);
        Files.deleteIfExists(exitGuard);
        Files.createSymbolicLink(exitGuard, JARS.resolve(LocalMesh.EXIT_GUARD_JAR));
        Path broken = dir.resolve("broken");
        Cli.Run up = Cli.run("up", "--dir", broken.toString(), "--base-port", String.valueOf(freeBasePort()),
                "--jars", jars.toString(), "--timeout", "240s");
        assertThat(up.exit()).as(up.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(up.err()).contains("core-runtime exited with", "while starting", "core-runtime.log",
                "Invalid or corrupt jarfile");
        assertThat(LocalMesh.in(broken).stateFile()).doesNotExist();
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine()
                .map(c -> c.contains(broken.toString())).orElse(false)).toList()).isEmpty();
    }

    @Test
    @Order(3)
    void healthShowsTheBrokerAndEveryRuntimeServing() {
        Cli.Run health = Cli.run("health", "--dir", mesh.toString());
        assertThat(health.exit()).as(health.toString()).isZero();
        assertThat(health.out()).contains("SERVICE", "LAST HEARTBEAT", "broker", broker);
        for (String tier : List.of("core", "data", "ml", "crypto")) {
            assertThat(health.out()).containsPattern(tier + "-runtime@\\S+\\s+" + tier + "\\s+\\S+\\s+SERVING");
        }
        JsonObject json = JsonParser.parseString(Cli.run("health", "--broker", broker, "--json").out())
                .getAsJsonObject();
        assertThat(json.get("allServing").getAsBoolean()).isTrue();
        assertThat(json.getAsJsonArray("runtimes")).hasSize(4);
    }

    @Test
    @Order(4)
    void listShowsTheCatalogAndFiltersByPrefix() {
        Cli.Run all = Cli.run("list", "--dir", mesh.toString());
        assertThat(all.exit()).as(all.toString()).isZero();
        assertThat(all.out()).contains("CAPABILITY", "core.json", "data.sql", "ml.onnx", "crypto.sign", "loaded",
                "127.0.0.1:" + (basePort + 1));
        Cli.Run crypto = Cli.run("list", "crypto.", "--dir", mesh.toString(), "--json");
        assertThat(crypto.exit()).isZero();
        assertThat(JsonParser.parseString(crypto.out()).getAsJsonObject().getAsJsonArray("capabilities"))
                .allSatisfy(c -> assertThat(c.getAsJsonObject().get("name").getAsString()).startsWith("crypto."))
                .hasSize(5);
        Cli.Run none = Cli.run("list", "nope.", "--dir", mesh.toString());
        assertThat(none.exit()).isZero();
        assertThat(none.out()).contains("No capability starts with 'nope.'");
    }

    @Test
    @Order(5)
    void acquirePrintsTheLeaseAndEndpointsOrTheBrokersReasons() {
        Cli.Run acquired = Cli.run("acquire", "core.json@^1", "data.sql", "--optional", "nope.maybe",
                "--account", "acme", "--dir", mesh.toString());
        assertThat(acquired.exit()).as(acquired.toString()).isZero();
        assertThat(acquired.out()).contains("lease ", "account acme", "released again",
                "core.json", "127.0.0.1:" + (basePort + 1), "data.sql", "127.0.0.1:" + (basePort + 2),
                "nope.maybe", "no runtime offers nope.maybe");

        Cli.Run kept = Cli.run("acquire", "ml.onnx", "--keep", "--json", "--dir", mesh.toString());
        assertThat(kept.exit()).as(kept.toString()).isZero();
        JsonObject lease = JsonParser.parseString(kept.out()).getAsJsonObject();
        assertThat(lease.get("released").getAsBoolean()).isFalse();
        assertThat(lease.get("leaseId").getAsString()).isNotBlank();
        assertThat(lease.getAsJsonArray("acquired").get(0).getAsJsonObject().get("name").getAsString())
                .isEqualTo("ml.onnx");

        Cli.Run unknown = Cli.run("acquire", "nope.nothing", "--dir", mesh.toString());
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(unknown.err()).contains("no runtime offers nope.nothing", "capmesh list");
        Cli.Run badRange = Cli.run("acquire", "core.json@^9", "--dir", mesh.toString());
        assertThat(badRange.exit()).as(badRange.toString()).isNotZero();
        assertThat(badRange.err()).contains("core.json");
    }

    @Test
    @Order(6)
    void invokeCallsThroughTheThinStubAndPrintsTextOrBase64() throws Exception {
        Cli.Run canonical = Cli.run("invoke", "core.json", "canonicalize", "--data", "{\"b\":1,\"a\":2}",
                "--dir", mesh.toString());
        assertThat(canonical.exit()).as(canonical.toString()).isZero();
        assertThat(canonical.out()).isEqualTo("{\"a\":2,\"b\":1}" + System.lineSeparator());
        assertThat(canonical.err()).contains("core.json 1.0.0 at 127.0.0.1:" + (basePort + 1));

        Cli.Run fromStdin = Cli.withStdin("{\"z\":[1],\"y\":true}", "invoke", "core.json@^1", "canonicalize",
                "--dir", mesh.toString(), "--json");
        assertThat(fromStdin.exit()).as(fromStdin.toString()).isZero();
        JsonObject answer = JsonParser.parseString(fromStdin.out()).getAsJsonObject();
        assertThat(answer.get("encoding").getAsString()).isEqualTo("utf-8");
        assertThat(answer.get("payload").getAsString()).isEqualTo("{\"y\":true,\"z\":[1]}");

        // binary answers come back as base64, and go back in from a file
        Cli.Run gzip = Cli.run("invoke", "core.compress", "gzip", "--data", "hello, mesh", "--dir", mesh.toString(),
                "--json");
        assertThat(gzip.exit()).as(gzip.toString()).isZero();
        JsonObject compressed = JsonParser.parseString(gzip.out()).getAsJsonObject();
        assertThat(compressed.get("encoding").getAsString()).isEqualTo("base64");
        Path file = Files.write(dir.resolve("hello.gz"),
                Base64.getDecoder().decode(compressed.get("payload").getAsString()));
        Cli.Run gunzip = Cli.run("invoke", "core.compress", "gunzip", "--file", file.toString(),
                "--attr", "max-output-bytes=100", "--dir", mesh.toString());
        assertThat(gunzip.exit()).as(gunzip.toString()).isZero();
        assertThat(gunzip.out().strip()).isEqualTo("hello, mesh");

        Cli.Run refused = Cli.run("invoke", "core.compress", "gunzip", "--file", file.toString(),
                "--attr", "max-output-bytes=2", "--dir", mesh.toString());
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(refused.err()).contains("core.compress gunzip at 127.0.0.1:" + (basePort + 1));

        Cli.Run unknown = Cli.run("invoke", "nope.nothing", "go", "--data", "", "--dir", mesh.toString());
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(unknown.err()).contains("no runtime offers nope.nothing");
        Cli.Run noMethod = Cli.run("invoke", "core.json", "nomethod", "--data", "{}", "--dir", mesh.toString());
        assertThat(noMethod.exit()).as(noMethod.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(noMethod.err()).contains("has no method 'nomethod'", "canonicalize");
        Cli.Run noFile = Cli.run("invoke", "core.json", "parse", "--file", dir.resolve("absent").toString(),
                "--dir", mesh.toString());
        assertThat(noFile.exit()).isEqualTo(ExitCode.USAGE);
    }

    @Test
    @Order(7)
    void deploySwapAndUnloadAnExtensionWithTheRuntimesVerdicts() throws Exception {
        Cli.Run deployed = Cli.run("deploy", GUAVA.toString(), "--dir", mesh.toString());
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        assertThat(deployed.out()).contains("core-runtime@", "legacy-guava", "1.0.0", "test.legacy-guava 1.0.0");
        Cli.Run called = Cli.run("invoke", "test.legacy-guava", "whoami", "--data", "", "--dir", mesh.toString());
        assertThat(called.exit()).as(called.toString()).isZero();
        assertThat(called.out()).contains("legacy-guava@1.0.0");

        Cli.Run twice = Cli.run("deploy", GUAVA.toString(), "--dir", mesh.toString());
        assertThat(twice.exit()).as(twice.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(twice.err()).contains("ALREADY_EXISTS", "is already loaded", "capmesh swap");

        Cli.Run swapped = Cli.run("swap", withVersion(GUAVA, "1.0.1").toString(), "--dir", mesh.toString(),
                "--json");
        assertThat(swapped.exit()).as(swapped.toString())
                .isEqualTo(swapped.out().contains("LEAKED") ? ExitCode.LEAKED : ExitCode.OK);
        JsonObject swap = JsonParser.parseString(swapped.out()).getAsJsonArray().get(0).getAsJsonObject()
                .getAsJsonObject("answer");
        assertThat(swap.getAsJsonObject("current").getAsJsonObject("manifest").get("version").getAsString())
                .isEqualTo("1.0.1");
        assertThat(swap.getAsJsonObject("previous").getAsJsonObject("reclamation").get("state").getAsString())
                .isIn("COLLECTED", "LEAKED");

        Cli.Run unloaded = Cli.run("unload", "legacy-guava", "--dir", mesh.toString());
        assertThat(unloaded.exit()).as(unloaded.toString())
                .isEqualTo(unloaded.out().contains("LEAKED") ? ExitCode.LEAKED : ExitCode.OK);
        assertThat(unloaded.out()).contains("legacy-guava", "1.0.1").containsPattern("COLLECTED|LEAKED");
        Cli.Run again = Cli.run("unload", "legacy-guava", "--dir", mesh.toString());
        assertThat(again.exit()).as(again.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(again.err()).contains("has legacy-guava loaded");
        Cli.Run direct = Cli.run("unload", "legacy-guava", "--runtime", "127.0.0.1:" + (basePort + 1),
                "--dir", mesh.toString());
        assertThat(direct.exit()).as(direct.toString()).isEqualTo(ExitCode.NOT_FOUND);
    }

    @Test
    @Order(7)
    void aFunctionFromSourceDeploysSwapsAndReportsCompileErrors() throws Exception {
        Path source = dir.resolve("greeter/Greeter.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, greeter("1.0.0", "hello"));
        Cli.Run deployed = Cli.run("deploy", "--source", source.toString(), "--dir", mesh.toString());
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        assertThat(deployed.out()).contains("core-runtime@", "greeter", "1.0.0", "demo.greet 1.0.0");
        Cli.Run called = Cli.run("invoke", "demo.greet", "greet", "--data", "Ada", "--dir", mesh.toString());
        assertThat(called.exit()).as(called.toString()).isZero();
        assertThat(called.out()).contains("hello, Ada");

        Files.writeString(source, greeter("1.0.1", "hi"));
        Cli.Run swapped = Cli.run("swap", "--source", source.getParent().toString(), "--dir", mesh.toString());
        assertThat(swapped.exit()).as(swapped.toString()).isIn(ExitCode.OK, ExitCode.LEAKED);
        assertThat(Cli.run("invoke", "demo.greet", "greet", "--data", "Ada", "--dir", mesh.toString()).out())
                .contains("hi, Ada");

        Files.writeString(source, greeter("1.0.2", "hey").replace("return \"hey, \" + name;", "return name +;"));
        Cli.Run broken = Cli.run("swap", "--source", source.toString(), "--dir", mesh.toString());
        assertThat(broken.exit()).as(broken.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(broken.err()).contains("INVALID_ARGUMENT", "does not compile", "Greeter.java:12:");
        assertThat(Cli.run("invoke", "demo.greet", "greet", "--data", "Ada", "--dir", mesh.toString()).out())
                .as("the last good version keeps serving").contains("hi, Ada");

        Cli.Run neither = Cli.run("deploy", "--dir", mesh.toString());
        assertThat(neither.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(neither.err()).contains("give an extension JAR or --source PATH");
        Cli.Run unloaded = Cli.run("unload", "greeter", "--dir", mesh.toString());
        assertThat(unloaded.exit()).as(unloaded.toString()).isIn(ExitCode.OK, ExitCode.LEAKED);
    }

    @Test
    @Order(7)
    void devSwapsEverySaveInAndOutlivesASaveThatDoesNotCompile() throws Exception {
        Path source = dir.resolve("dev/Greeter.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, greeter("1.0.0", "hello").replace("return \"hello, \" + name;", "return name +;"));
        ExecutorService background = Executors.newSingleThreadExecutor();
        try {
            Cli.Background dev = Cli.start(background, "dev", source.toString(), "--count", "3", "--call", "greet",
                    "--data", "Ada", "--dir", mesh.toString());
            await(dev, () -> dev.err().toString().contains("does not compile"), "the first save's errors");
            assertThat(dev.err().toString()).contains("Greeter.java:12:");

            Files.writeString(source, greeter("1.0.0", "hello"));
            await(dev, () -> dev.out().toString().contains("demo.greet greet -> hello, Ada"), "the fixed save");
            Files.writeString(source, greeter("1.0.0", "hi")); // a save, with the manifest unchanged
            assertThat(dev.exit().get(120, TimeUnit.SECONDS)).as(dev.out() + "\n" + dev.err()).isZero();
            assertThat(dev.out().toString()).contains("watching", "greeter 1.0.0-dev.", "compiled in",
                    "deployed in", "swapped in", "demo.greet greet -> hi, Ada")
                    .containsPattern("1\\.0\\.0-dev\\.\\d+ (COLLECTED|LEAKED)");
        } finally {
            background.shutdownNow();
        }
        assertThat(Cli.run("invoke", "demo.greet", "greet", "--data", "Ada", "--dir", mesh.toString()).out())
                .as("the last good version keeps serving after dev ends").contains("hi, Ada");
        assertThat(Cli.run("unload", "greeter", "--dir", mesh.toString()).exit()).isIn(ExitCode.OK, ExitCode.LEAKED);
    }

    private static void await(Cli.Background command, java.util.function.BooleanSupplier condition, String what)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertThat(command.exit()).as("ended before " + what + ":\n" + command.out() + command.err())
                    .isNotDone();
            assertThat(System.nanoTime()).as(what + ":\n" + command.out() + command.err()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static String greeter(String version, String greeting) {
        return """
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
                """.formatted(version, greeting);
    }

    @Test
    @Order(8)
    void aLeakedExtensionIsShownWithTheReferencePathThatHoldsIt() throws Exception {
        Path leaky = Path.of(System.getProperty("capmesh.test.extensions"))
                .resolve("capmesh-ext-misbehaving-system-property.jar");
        Cli.Run deployed = Cli.run("deploy", leaky.toString(), "--dir", mesh.toString());
        assertThat(deployed.exit()).as(deployed.toString()).isZero();
        // the local mesh looks for the path of every leak, in a child JVM of the runtime's Spring Boot jar
        Cli.Run unloaded = Cli.run("unload", "system-property", "--leak-path-wait", "120s", "--dir", mesh.toString());
        assertThat(unloaded.exit()).as(unloaded.toString()).isEqualTo(ExitCode.LEAKED);
        assertThat(unloaded.out()).as(unloaded.toString())
                .contains("LEAKED after")
                .contains("What holds system-property@1.0.0 at core-runtime@")
                .contains("GC root: System class")
                .contains("├─ java.lang.System class", "↓ static System.props")
                .contains("SystemPropertyExtension$Marker instance")
                .contains("╰→ the extension's classloader")
                .contains("If that lets go, the runtime still collects it");

        // the runtime keeps the verdict: asked directly, with no broker involved
        String core = "127.0.0.1:" + (basePort + 1);
        Cli.Run described = Cli.run("runtime", "describe", "system-property", "--runtime", core);
        assertThat(described.exit()).as(described.toString()).isZero();
        assertThat(described.out()).contains(core, "1.0.0", "unloaded", "LEAKED after", "↓ static System.props");
        Cli.Run listed = Cli.run("runtime", "list", "--runtime", core);
        assertThat(listed.exit()).as(listed.toString()).isZero();
        assertThat(listed.out()).contains("core-echo", "loaded").doesNotContain("system-property");
        Cli.Run unknown = Cli.run("runtime", "describe", "no-such-extension", "--runtime", core);
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(ExitCode.NOT_FOUND);

        Cli.Run direct = Cli.run("invoke", "core.echo", "echo", "--data", "straight", "--runtime", core);
        assertThat(direct.exit()).as(direct.toString()).isZero();
        assertThat(direct.out()).isEqualTo("straight" + System.lineSeparator());
        assertThat(direct.err()).contains("core.echo core-echo@", "at " + core);
        Cli.Run noSuch = Cli.run("invoke", "core.nothing", "echo", "--runtime", core, "--data", "");
        assertThat(noSuch.exit()).as(noSuch.toString()).isEqualTo(ExitCode.NOT_FOUND);

        // no extension can end its runtime: the runtime started with the exit guard refuses, serves on, and says who
        Path exits = Path.of(System.getProperty("capmesh.test.extensions"))
                .resolve("capmesh-ext-misbehaving-exit-attempts.jar");
        Cli.Run exitsDeployed = Cli.run("deploy", exits.toString(), "--runtime", core);
        assertThat(exitsDeployed.exit()).as(exitsDeployed.toString()).isZero();
        Cli.Run halted = Cli.run("invoke", "test.exit-attempts", "library-halt", "--data", "", "--runtime", core);
        assertThat(halted.exit()).as(halted.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(halted.err()).contains("exit-attempts@1.0.0 called Runtime.halt(7)",
                "an extension may not end its runtime");
        Cli.Run alive = Cli.run("invoke", "test.exit-attempts", "ok", "--data", "still here", "--runtime", core);
        assertThat(alive.exit()).as(alive.toString()).isZero();
        Cli.Run refusals = Cli.run("runtime", "describe", "exit-attempts", "--runtime", core);
        assertThat(refusals.out()).as(refusals.toString()).contains("Exits refused",
                "exit-attempts@1.0.0 called Runtime.halt(7)", "io.capmesh.extensions.terminator.Terminator.halt");
        assertThat(Files.readString(mesh.resolve("logs").resolve("core-runtime.log")))
                .contains("exit-attempts@1.0.0 called Runtime.halt(7)");
        assertThat(Cli.run("unload", "exit-attempts", "--runtime", core).exit()).isIn(ExitCode.OK, ExitCode.LEAKED);

        // nothing crashed this mesh's runtimes: nothing is quarantined, and releasing names what is
        Cli.Run quarantine = Cli.run("quarantine", "list", "--runtime", core);
        assertThat(quarantine.exit()).as(quarantine.toString()).isZero();
        assertThat(quarantine.out()).contains("RUNTIME", "REASON").doesNotContain("core-echo");
        Cli.Run release = Cli.run("quarantine", "release", "core-echo", "--runtime", core);
        assertThat(release.exit()).as(release.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(release.err()).contains("core-echo is not quarantined in this runtime; quarantined: none");
    }

    @Test
    @Order(9)
    void aBadJarGetsTheRuntimesProblemsAndUnknownTargetsAreNamed() throws Exception {
        Path missingClass = jar(dir.resolve("missing-class.jar"), """
                {"id": "broken", "version": "1.0.0", "entryClass": "com.example.NotThere",
                 "capabilities": [{"name": "test.broken", "version": "1.0.0", "methods": ["go"]}],
                 "dependencies": [], "isolation": "in-process"}""");
        Cli.Run refused = Cli.run("deploy", missingClass.toString(), "--dir", mesh.toString());
        assertThat(refused.exit()).as(refused.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(refused.err()).contains("deploy of " + missingClass, "refused", "com.example.NotThere",
                "fix the package");

        Path notAJar = Files.writeString(dir.resolve("not-a.jar"), "plain text");
        Cli.Run garbage = Cli.run("deploy", notAJar.toString(), "--runtime", "core", "--dir", mesh.toString());
        assertThat(garbage.exit()).as(garbage.toString()).isEqualTo(ExitCode.FAILED);
        assertThat(garbage.err()).contains("INVALID_ARGUMENT", "not-a.jar");

        Cli.Run noTier = Cli.run("deploy", GUAVA.toString(), "--runtime", "quantum", "--dir", mesh.toString());
        assertThat(noTier.exit()).as(noTier.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(noTier.err()).contains("no runtime of tier 'quantum'", "core", "crypto");
        Cli.Run noRuntime = Cli.run("deploy", GUAVA.toString(), "--runtime", "127.0.0.1:1", "--dir",
                mesh.toString());
        assertThat(noRuntime.exit()).as(noRuntime.toString()).isEqualTo(ExitCode.UNREACHABLE);
        assertThat(noRuntime.err()).contains("no runtime at 127.0.0.1:1");
        Cli.Run swapUnknown = Cli.run("swap", GUAVA.toString(), "--dir", mesh.toString());
        assertThat(swapUnknown.exit()).as(swapUnknown.toString()).isEqualTo(ExitCode.NOT_FOUND);
    }

    @Test
    @Order(10)
    void watchStreamsCatalogChangesUntilItsCount() throws Exception {
        CompletableFuture<Cli.Run> watching = CompletableFuture.supplyAsync(() -> Cli.run("watch", "--prefix",
                "test.", "--count", "1", "--for", "120s", "--json", "--dir", mesh.toString()),
                task -> new Thread(task, "watch").start()); // not the common pool: one thread on two cores
        // the stream may open after a change: keep making changes until one is seen
        List<Cli.Run> changes = new ArrayList<>();
        for (int i = 0; i < 20 && !watching.isDone(); i++) {
            changes.add(Cli.run(i % 2 == 0 ? "deploy" : "unload", i % 2 == 0 ? GUAVA.toString() : "legacy-guava",
                    "--dir", mesh.toString()));
            assertThat(changes.get(changes.size() - 1).exit()).as(changes.toString()).isZero();
            Thread.sleep(500);
        }
        Cli.Run watched = watching.get(130, TimeUnit.SECONDS);
        assertThat(watched).isNotNull();
        assertThat(watched.exit()).as(watched.toString()).isZero();
        assertThat(watched.out().lines().toList()).hasSize(1);
        JsonObject event = JsonParser.parseString(watched.out()).getAsJsonObject();
        assertThat(event.toString()).contains("test.legacy-guava");
        if (changes.size() % 2 == 1) {
            assertThat(Cli.run("unload", "legacy-guava", "--dir", mesh.toString()).exit()).isZero();
        }
    }

    @Test
    @Order(11)
    void demoRunsTheSampleOnTheMeshAndTraceShowsItsTreeAgain() {
        Cli.Run demo = Cli.run("demo", "--dir", mesh.toString());
        assertThat(demo.exit()).as(demo.toString()).isZero();
        assertThat(demo.out()).contains("score-and-sign: data.sql -> ml.onnx -> crypto.sign", "north bed",
                "signed 1", "with Ed25519 key");
        String traceId = demo.out().lines().filter(l -> l.startsWith("trace ")).findFirst().orElseThrow()
                .split(" ")[1];
        // the run's tree: the function, the broker and the three runtimes it composed
        assertThat(demo.out()).containsPattern("CapabilityBroker/Acquire +broker ")
                .containsPattern("Sql/Query +data-runtime ").containsPattern("Onnx/Infer +ml-runtime ")
                .containsPattern("Signer/Sign +crypto-runtime ");

        Cli.Run latest = Cli.run("trace", "--dir", mesh.toString());
        assertThat(latest.exit()).as(latest.toString()).isZero();
        assertThat(latest.out()).startsWith("trace " + traceId);
        Cli.Run byId = Cli.run("trace", traceId, "--json", "--dir", mesh.toString());
        assertThat(byId.exit()).as(byId.toString()).isZero();
        assertThat(JsonParser.parseString(byId.out()).getAsJsonArray()).hasSizeGreaterThan(15)
                .allSatisfy(span -> assertThat(span.getAsJsonObject().get("traceId").getAsString()).isEqualTo(traceId));

        Cli.Run unknown = Cli.run("trace", "0".repeat(32), "--dir", mesh.toString());
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(unknown.err()).contains("no spans of trace " + "0".repeat(32));
        Cli.Run malformed = Cli.run("trace", "xyz", "--dir", mesh.toString());
        assertThat(malformed.exit()).as(malformed.toString()).isEqualTo(ExitCode.USAGE);
        Cli.Run noMesh = Cli.run("trace", "--dir", dir.resolve("nothing-here").toString());
        assertThat(noMesh.exit()).as(noMesh.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(noMesh.err()).contains("no traces in", "capmesh up");
    }

    @Test
    @Order(12)
    void signWithAKeyThatStaysInTheCryptoRuntime() throws Exception {
        ManagedChannel crypto = Grpc.newChannelBuilderForAddress("127.0.0.1", basePort + 4,
                InsecureChannelCredentials.create()).build();
        String keyId;
        String publicPem;
        try {
            var keys = KeysGrpc.newBlockingStub(crypto).withDeadlineAfter(10, TimeUnit.SECONDS);
            keyId = keys.generate(GenerateKeyRequest.newBuilder().setType(KeyType.ED25519)
                    .setLabel("release signing").build()).getKeyId();
            publicPem = keys.exportPublicKey(ExportPublicKeyRequest.newBuilder().setKeyId(keyId).build()).getPem();
        } finally {
            crypto.shutdownNow();
        }
        Path signed = dir.resolve("guava-signed.jar");

        Cli.Run sign = Cli.run("sign", GUAVA.toString(), "--crypto-key", keyId, "--out", signed.toString(),
                "--dir", mesh.toString());

        assertThat(sign.exit()).as(sign.toString()).isZero();
        PackageContents contents = new PackageContents();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(signed))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                byte[] bytes = in.readAllBytes();
                if (entry.getName().equals(PackageSignature.PATH)) {
                    contents.signature(bytes);
                } else {
                    contents.add(entry.getName(), PackageContents.newDigest().digest(bytes));
                }
            }
        }
        TrustedKeys trusted = TrustedKeys.read(List.of(publicPem));
        assertThat(sign.out()).contains("with Ed25519 key " + trusted.ids().get(0));
        assertThat(new PackageVerifier(SignaturePolicy.REQUIRED, trusted).verify(contents))
                .isInstanceOf(PackageVerifier.Verified.class);

        Cli.Run unknown = Cli.run("sign", GUAVA.toString(), "--crypto-key", "no-such-key", "--out",
                dir.resolve("never.jar").toString(), "--dir", mesh.toString());
        assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(ExitCode.NOT_FOUND);
        assertThat(unknown.err()).contains("no-such-key");
        assertThat(dir.resolve("never.jar")).doesNotExist();
    }

    /** A base port whose five gRPC ports and five management ports (1000 below) are free now. */
    static int freeBasePort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            int base = ThreadLocalRandom.current().nextInt(21_000, 60_000);
            boolean free = true;
            for (int offset = 0; offset < 5 && free; offset++) {
                free = free(base + offset) && free(base - 1000 + offset);
            }
            if (free) {
                return base;
            }
        }
        throw new IOException("no free base port found");
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** A copy of an extension jar whose manifest says another version. */
    private static Path withVersion(Path jar, String version) throws IOException {
        Path copy = dir.resolve("legacy-guava-" + version + ".jar");
        try (ZipFile in = new ZipFile(jar.toFile());
             ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(copy))) {
            for (ZipEntry entry : java.util.Collections.list(in.entries())) {
                byte[] bytes = in.getInputStream(entry).readAllBytes();
                if (entry.getName().equals(ExtensionJar.MANIFEST)) {
                    bytes = new String(bytes, StandardCharsets.UTF_8).replace("\"1.0.0\"", "\"" + version + "\"")
                            .getBytes(StandardCharsets.UTF_8);
                }
                out.putNextEntry(new ZipEntry(entry.getName()));
                out.write(bytes);
                out.closeEntry();
            }
        }
        return copy;
    }

    /** A jar holding only a manifest. */
    private static Path jar(Path file, String manifest) throws IOException {
        try (OutputStream stream = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(stream)) {
            zip.putNextEntry(new ZipEntry(ExtensionJar.MANIFEST));
            zip.write(manifest.getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
        }
        return file;
    }
}
