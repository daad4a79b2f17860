package io.capmesh.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "up", sortOptions = false,
        header = "Start a local mesh: the broker and four runtimes.",
        description = {"Start a local mesh: the broker and the core, data, ml and crypto runtimes, each its own JVM"
                + " on loopback, with embedded stores under --dir. Returns once every one serves and every runtime"
                + " is registered with the broker; they keep running after this command ends (`capmesh down` stops"
                + " them).",
                "The crypto runtime's key store uses CAPMESH_CRYPTO_MASTER_KEY when set; otherwise it makes a"
                + " development key next to the store."})
final class UpCommand implements Callable<Integer> {

    @Mixin
    private MeshDirectory directory;

    @Mixin
    private Output output;

    @Option(names = "--base-port", paramLabel = "PORT", defaultValue = "9090",
            description = "The broker's gRPC port; the runtimes take the next four (default: ${DEFAULT-VALUE}).")
    private int basePort;

    @Option(names = "--management-base-port", paramLabel = "PORT",
            description = "The broker's Actuator (HTTP) port; the runtimes take the next four (default: 1000 below"
                    + " --base-port).")
    private Integer managementBasePort;

    @Option(names = "--jars", paramLabel = "DIR",
            description = "A directory holding capmesh-<service>.jar for each service (default: each module's"
                    + " target/ in the capmesh checkout).")
    private Path jars;

    @Option(names = "--tls", paramLabel = "DIR",
            description = "Run every service with mutual TLS on the certificates in DIR, from `capmesh certs`; the"
                    + " other commands then talk TLS to this mesh on their own (or with --tls DIR).")
    private Path tls;

    @Option(names = "--access",
            description = "Run every service with access control required: keys and tokens are made in the mesh's"
                    + " access/ directory, and the other commands use its operator token on this mesh.")
    private boolean access;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "180s", converter = Durations.class,
            description = "How long the services may take to serve and register (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Override
    public Integer call() {
        LocalMesh.Options options = LocalMesh.Options.at(basePort).withStartTimeout(timeout)
                .withJvmOptions(javaOpts());
        if (managementBasePort != null) {
            options = options.withManagementBasePort(managementBasePort);
        }
        if (jars != null) {
            options = options.withJars(jars);
        }
        if (tls != null) {
            options = options.withTls(tls);
        }
        if (access) {
            options = options.withAccess();
        }
        LocalMesh mesh = directory.mesh();
        LocalMesh.Started started = mesh.start(options, output::note);
        if (output.json()) {
            output.json(new Up(started.alreadyUp(), started.state()));
            return ExitCode.OK;
        }
        output.say(started.alreadyUp()
                ? "The mesh in " + mesh.dir() + " is already up (`capmesh down` stops it):"
                : "The mesh is up; `capmesh down` stops it.");
        print(output, started.state());
        if (!started.alreadyUp() && System.getenv("CAPMESH_CRYPTO_MASTER_KEY") == null) {
            output.note("crypto-runtime encrypts its keys under a development master key in "
                    + mesh.dir().resolve("crypto-runtime").resolve("master.key")
                    + "; set CAPMESH_CRYPTO_MASTER_KEY (openssl rand -base64 32) before `capmesh up` for a real one");
        }
        return ExitCode.OK;
    }

    record Up(boolean alreadyUp, LocalMesh.State mesh) {
    }

    static void print(Output output, LocalMesh.State state) {
        Table table = Table.of("service", "grpc", "management", "pid", "log");
        for (LocalMesh.Member member : state.members()) {
            table.row(member.service(), member.grpc(), "http://" + member.management() + "/actuator", member.pid(),
                    member.log());
        }
        output.table(table);
        output.say("broker: " + state.broker() + "   state: " + state.dir().resolve(LocalMesh.STATE_FILE)
                + (state.tls() == null ? "" : "   mutual TLS: " + state.tls())
                + (state.access() == null ? "" : "   access control: on, operator token "
                        + new AccessDirectory(state.access()).operatorToken()));
    }

    /** Like bin/service: JAVA_OPTS go to every service's JVM. */
    private static List<String> javaOpts() {
        String options = System.getenv("JAVA_OPTS");
        return options == null || options.isBlank() ? List.of()
                : Arrays.stream(options.trim().split("\\s+")).toList();
    }
}
