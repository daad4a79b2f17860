package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the command line does without a mesh: usage, parsing, and failing clearly. */
class CommandLineTest {

    @TempDir
    Path dir;

    @Test
    void everyCommandDocumentsItsExitCodes() {
        for (String command : new String[] {"up", "down", "list", "acquire", "invoke", "deploy", "swap", "unload",
                "health", "watch"}) {
            Cli.Run help = Cli.run(command, "--help");
            assertThat(help.exit()).as(command).isZero();
            assertThat(help.out()).as(command).contains("Exit codes:", "3   unreachable", "4   not found",
                    "5   done, but an unloaded version's classloader leaked");
        }
    }

    @Test
    void theRuntimeCommandNamesItsSubcommandsAndTheirRequiredRuntime() {
        Cli.Run bare = Cli.run("runtime");
        assertThat(bare.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(bare.err()).contains("capmesh runtime list --runtime TIER|HOST:PORT", "capmesh runtime describe ID");
        Cli.Run noRuntime = Cli.run("runtime", "describe", "legacy-guava");
        assertThat(noRuntime.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(noRuntime.err()).contains("Missing required option: '--runtime=TIER|HOST:PORT'");
        // an address needs no broker: a runtime that is not there is unreachable, named by its address
        Cli.Run nowhere = Cli.run("runtime", "list", "--runtime", "127.0.0.1:1");
        assertThat(nowhere.exit()).as(nowhere.toString()).isEqualTo(ExitCode.UNREACHABLE);
        assertThat(nowhere.err()).contains("127.0.0.1:1").doesNotContain("--broker");
    }

    @Test
    void theQuarantineCommandNamesItsSubcommands() {
        Cli.Run bare = Cli.run("quarantine");
        assertThat(bare.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(bare.err()).contains("capmesh quarantine list --runtime TIER|HOST:PORT",
                "capmesh quarantine release ID --runtime TIER|HOST:PORT");
        Cli.Run noId = Cli.run("quarantine", "release", "--runtime", "127.0.0.1:1");
        assertThat(noId.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(noId.err()).contains("Missing required parameter: 'ID'");
        Cli.Run nowhere = Cli.run("quarantine", "list", "--runtime", "127.0.0.1:1");
        assertThat(nowhere.exit()).as(nowhere.toString()).isEqualTo(ExitCode.UNREACHABLE);
    }

    @Test
    void theStoreCommandNeedsADataDirectoryAndARuntimeJar() {
        Cli.Run bare = Cli.run("store");
        assertThat(bare.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(bare.err()).contains("capmesh store list --data-dir DIR", "capmesh store remove ID --data-dir DIR");
        Cli.Run noDir = Cli.run("store", "list");
        assertThat(noDir.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(noDir.err()).contains("Missing required option: '--data-dir=DIR'");
        Cli.Run noJar = Cli.run("store", "list", "--data-dir", dir.toString(), "--runtime-jar",
                dir.resolve("absent.jar").toString());
        assertThat(noJar.exit()).isEqualTo(ExitCode.FAILED);
        assertThat(noJar.err()).contains("absent.jar", "build first", "--runtime-jar");
    }

    @Test
    void noCommandShowsUsageAsBadUsage() {
        Cli.Run run = Cli.run();
        assertThat(run.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(run.err()).contains("Usage: capmesh", "up", "invoke");
    }

    @Test
    void malformedValuesAreBadUsage() {
        assertThat(Cli.run("list", "--broker", "nowhere").exit()).isEqualTo(ExitCode.USAGE);
        Cli.Run badReplica = Cli.run("list", "--broker", "127.0.0.1:9090,nowhere");
        assertThat(badReplica.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(badReplica.err()).contains("'nowhere' is not host:port");
        assertThat(Cli.run("acquire", "core.json", "--timeout", "soon").err()).contains("not a duration");
        assertThat(Cli.run("acquire").exit()).isEqualTo(ExitCode.USAGE);
        assertThat(Cli.run("acquire", "@^1").err()).contains("names no capability");
        assertThat(Cli.run("invoke", "core.json", "parse", "--data", "x", "--file", "y").exit())
                .isEqualTo(ExitCode.USAGE);
        assertThat(Cli.run("invoke", "core.json", "parse", "--attr", "novalue").exit()).isEqualTo(ExitCode.USAGE);
        Cli.Run missingJar = Cli.run("deploy", dir.resolve("absent.jar").toString(), "--broker", "127.0.0.1:1");
        assertThat(missingJar.exit()).as(missingJar.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(missingJar.err()).contains("no such file");
    }

    @Test
    void aBrokerThatIsNotThereIsUnreachableWithWhatToDo() {
        for (String[] command : new String[][] {{"list"}, {"health"}, {"acquire", "core.json"},
                {"invoke", "core.json", "parse", "--data", "{}"}, {"watch", "--count", "1"}, {"unload", "x"}}) {
            String[] args = Stream.concat(Arrays.stream(command), Stream.of("--broker", "127.0.0.1:1"))
                    .toArray(String[]::new);
            Cli.Run run = Cli.run(args);
            assertThat(run.exit()).as(run.toString()).isEqualTo(ExitCode.UNREACHABLE);
            assertThat(run.err()).contains("no broker at 127.0.0.1:1: start one with `capmesh up` or pass --broker");
        }
        Cli.Run none = Cli.run("list", "--broker", "127.0.0.1:1,127.0.0.1:2");
        assertThat(none.exit()).as(none.toString()).isEqualTo(ExitCode.UNREACHABLE);
        assertThat(none.err()).contains("no broker at 127.0.0.1:1,127.0.0.1:2");
    }

    @Test
    void theDefaultBrokerIsTheLocalMeshsFromItsStateFile() throws Exception {
        Files.writeString(dir.resolve(LocalMesh.STATE_FILE), Json.PRETTY.toJson(new LocalMesh.State(dir,
                HostPort.loopback(1), Instant.now(), List.of(), null, null)));
        Cli.Run run = Cli.run("list", "--dir", dir.toString());
        assertThat(run.err()).contains("no broker at 127.0.0.1:1");
    }

    @Test
    void upWithoutJarsSaysToBuildFirstAndDownWithoutAMeshSaysSo() {
        Cli.Run up = Cli.run("up", "--dir", dir.toString(), "--jars", dir.resolve("nothing").toString());
        assertThat(up.exit()).isEqualTo(ExitCode.FAILED);
        assertThat(up.err()).contains("capmesh-broker-service.jar", "capmesh-exit-guard.jar (the exit guard every runtime",
                "build first with ./mvnw -B -q install -DskipTests");
        Cli.Run down = Cli.run("down", "--dir", dir.toString());
        assertThat(down.exit()).isZero();
        assertThat(down.out()).contains("No mesh is up in");
    }

    @Test
    void benchRefusesAnUnknownModeAndSaysToBuildWhenItsJarIsMissing() {
        Cli.Run badMode = Cli.run("bench", "--mode", "forever", "--jar", dir.resolve("b.jar").toString());
        assertThat(badMode.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(badMode.err()).contains("smoke, quick or full");
        Cli.Run noJar = Cli.run("bench", "--mode", "smoke", "--jar", dir.resolve("b.jar").toString());
        assertThat(noJar.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(noJar.err()).contains("no benchmark jar at", "build first with ./mvnw -B -q install -DskipTests");
    }

    @Test
    void partsParseAsPeopleWriteThem() {
        assertThat(HostPort.parse("[::1]:9090")).isEqualTo(new HostPort("::1", 9090));
        assertThat(HostPort.parse("[::1]:9090").target()).isEqualTo("[::1]:9090");
        assertThat(BrokerAddress.parse("10.0.0.1:9090, broker-b:9090").replicas())
                .containsExactly(new HostPort("10.0.0.1", 9090), new HostPort("broker-b", 9090));
        assertThat(BrokerAddress.parse("10.0.0.1:9090,broker-b:9090").target())
                .isEqualTo("10.0.0.1:9090,broker-b:9090");
        assertThat(new Wanted.Converter().convert("data.sql@>=1.0.0 <2.0.0"))
                .isEqualTo(new Wanted("data.sql", ">=1.0.0 <2.0.0"));
        assertThat(new Durations().convert("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(new Durations().convert("PT2M")).isEqualTo(Duration.ofMinutes(2));
        assertThatThrownBy(() -> new Durations().convert("0s")).hasMessageContaining("must be positive");
        assertThat(new Durations.OrZero().convert("0s")).isZero();
        assertThatThrownBy(() -> new Durations.OrZero().convert("-PT1S")).hasMessageContaining("must not be negative");
        StringWriter table = new StringWriter();
        Table.of("name", "v").row("core.json", "1.0.0").row("x", "").print(new PrintWriter(table));
        assertThat(table.toString().lines()).containsExactly("NAME       V", "core.json  1.0.0", "x");
    }
}
