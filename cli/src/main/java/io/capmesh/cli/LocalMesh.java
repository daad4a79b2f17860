package io.capmesh.cli;

import io.capmesh.proto.v1.BrokerHealthRequest;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.RuntimeHealth;
import io.capmesh.proto.v1.ServingState;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A mesh on this machine: the broker and the four runtimes, each its own JVM started as {@code bin/service} starts
 * it (from the directory the build prepared beside its jar), on loopback ports, with its embedded store and log
 * under one directory. The processes are detached (their own session, no terminal), so they outlive the command
 * that started them; a state file in the directory says where they are, so later commands find them.
 *
 * <p>Ports: the broker's gRPC port is the base port and the runtimes' follow it (core, data, ml, crypto); the
 * management (Actuator) ports do the same from the management base, by default 1000 below.
 */
public final class LocalMesh {

    public static final Path DEFAULT_DIR = Path.of(".capmesh", "mesh");
    public static final int DEFAULT_BASE_PORT = 9090;
    public static final String BUILD_FIRST = "build first with ./mvnw -B -q install -DskipTests";

    static final String STATE_FILE = "mesh.json";
    /**
     * For a bare jar (one the build did not prepare; prepared ones start through their run script, which has these
     * and more): concurrent explicit GCs and early tenuring let unload verification work without pauses.
     */
    static final List<String> JVM_FLAGS = List.of("-XX:+UseG1GC", "-XX:+ExplicitGCInvokesConcurrent",
            "-XX:MaxTenuringThreshold=1");
    /** The exit guard agent every runtime starts with, beside the service jars: no extension can end a runtime. */
    static final String EXIT_GUARD_JAR = "capmesh-exit-guard.jar";
    private static final Duration POLL = Duration.ofMillis(200);
    private static final int LOG_TAIL_LINES = 40;

    /** The services of a local mesh, in start order; the position is the port offset. */
    public enum Service {
        BROKER("broker", "broker-service", ""),
        CORE("core-runtime", "core-runtime-service", "core"),
        DATA("data-runtime", "data-runtime-service", "data"),
        ML("ml-runtime", "ml-runtime-service", "ml"),
        CRYPTO("crypto-runtime", "crypto-runtime-service", "crypto");

        private final String serviceName;
        private final String module;
        private final String tier;

        Service(String serviceName, String module, String tier) {
            this.serviceName = serviceName;
            this.module = module;
            this.tier = tier;
        }

        /** As {@code bin/service} names it: {@code broker}, {@code core-runtime}, ... */
        public String serviceName() {
            return serviceName;
        }

        /** The runtime's tier as the broker shows it; empty for the broker. */
        public String tier() {
            return tier;
        }

        public boolean isRuntime() {
            return this != BROKER;
        }

        /** The packaged jar's file name, as the module builds it and as a copied jar without its version. */
        public String jarName() {
            return "capmesh-" + module + ".jar";
        }

        static List<Service> runtimes() {
            return Arrays.stream(values()).filter(Service::isRuntime).toList();
        }
    }

    /**
     * How to start a mesh.
     *
     * @param basePort           the broker's gRPC port; the runtimes take the next four
     * @param managementBasePort the broker's Actuator port; the runtimes take the next four
     * @param jars               a directory holding {@code capmesh-<module>.jar} for every service; empty: each
     *                           module's {@code target/} under the capmesh home ({@code capmesh.jars} and
     *                           {@code capmesh.home} system properties, else the working directory)
     * @param startTimeout       how long all services may take to serve and register
     * @param jvmOptions         more JVM options for every service (bin/service's {@code JAVA_OPTS})
     * @param tls                certificates from {@code capmesh certs}: every service then serves and calls with
     *                           mutual TLS; empty: plaintext
     * @param access             every service requires access control, with keys and tokens made in the mesh's
     *                           {@code access/} directory (see {@link AccessDirectory})
     */
    public record Options(int basePort, int managementBasePort, Optional<Path> jars, Duration startTimeout,
                          List<String> jvmOptions, Optional<Path> tls, boolean access) {

        public static Options defaults() {
            return at(DEFAULT_BASE_PORT);
        }

        public static Options at(int basePort) {
            return new Options(basePort, basePort - 1000, Optional.empty(), Duration.ofSeconds(180), List.of(),
                    Optional.empty(), false);
        }

        public Options withJars(Path directory) {
            return new Options(basePort, managementBasePort, Optional.of(directory), startTimeout, jvmOptions, tls, access);
        }

        public Options withStartTimeout(Duration timeout) {
            return new Options(basePort, managementBasePort, jars, timeout, jvmOptions, tls, access);
        }

        public Options withManagementBasePort(int port) {
            return new Options(basePort, port, jars, startTimeout, jvmOptions, tls, access);
        }

        public Options withJvmOptions(List<String> options) {
            return new Options(basePort, managementBasePort, jars, startTimeout, List.copyOf(options), tls, access);
        }

        public Options withTls(Path certificates) {
            return new Options(basePort, managementBasePort, jars, startTimeout, jvmOptions,
                    Optional.of(certificates.toAbsolutePath().normalize()), access);
        }

        public Options withAccess() {
            return new Options(basePort, managementBasePort, jars, startTimeout, jvmOptions, tls, true);
        }
    }

    /** Where one started service is. */
    public record Member(String service, String tier, HostPort grpc, HostPort management, long pid,
                         Instant startedAt, Path log, Path jar) {
    }

    /**
     * What the state file holds: the mesh's directory, its broker and its services, the certificates it runs
     * mutual TLS on ({@code null}: plaintext), and the directory of its access keys and tokens ({@code null}: access
     * control off).
     */
    public record State(Path dir, HostPort broker, Instant startedAt, List<Member> members, Path tls, Path access) {

        /** How to secure channels to the mesh's services, as a client, and as its operator where access is on. */
        public ChannelCredentials credentials() {
            ChannelCredentials channel = tls == null ? InsecureChannelCredentials.create()
                    : new TlsDirectory(tls).clientCredentials();
            return access == null ? channel : new AccessDirectory(access).asOperator(channel);
        }

        public Optional<Member> member(Service service) {
            return members.stream().filter(m -> m.service().equals(service.serviceName())).findFirst();
        }
    }

    /** A member and whether its process is still the one that was started and alive. */
    public record MemberStatus(Member member, boolean running) {
    }

    /** The outcome of {@link #start}: a mesh just started, or the one that was already up. */
    public record Started(State state, boolean alreadyUp) {
    }

    /** How one service ended: {@code stopped} (on SIGTERM), {@code killed} (forcibly), {@code not running}. */
    public record Stopped(String service, long pid, String outcome, Duration took) {
    }

    private final Path dir;

    private LocalMesh(Path dir) {
        this.dir = dir.toAbsolutePath().normalize();
    }

    public static LocalMesh in(Path dir) {
        return new LocalMesh(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Where every process of the mesh (and {@code capmesh demo}) writes its spans; {@code capmesh trace} reads them. */
    public Path spanDir() {
        return dir.resolve("spans");
    }

    public Path stateFile() {
        return dir.resolve(STATE_FILE);
    }

    /** The state file's content, when a mesh was started here and not stopped. */
    public Optional<State> state() {
        Path file = stateFile();
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            State state = Json.PRETTY.fromJson(Files.readString(file), State.class);
            if (state == null || state.broker() == null || state.members() == null) {
                throw new IllegalStateException("incomplete");
            }
            return Optional.of(state);
        } catch (IOException | RuntimeException e) {
            throw CliFailure.failed("cannot read the mesh state " + file + " (" + e.getMessage() + "); stop what it"
                    + " started by hand and delete the file");
        }
    }

    /** The broker of the mesh started in a directory, if one was. */
    public static Optional<HostPort> brokerOf(Path dir) {
        try {
            return in(dir).state().map(State::broker);
        } catch (CliFailure unreadable) {
            return Optional.empty();
        }
    }

    /** The operator's bearer token of the mesh started in a directory, if it was started with access control. */
    public static Optional<Path> operatorTokenOf(Path dir) {
        try {
            return in(dir).state().map(State::access).map(access -> new AccessDirectory(access).operatorToken());
        } catch (CliFailure unreadable) {
            return Optional.empty();
        }
    }

    /** The certificates the mesh started in a directory runs mutual TLS on, if it was started with TLS. */
    public static Optional<Path> tlsOf(Path dir) {
        try {
            return in(dir).state().map(State::tls);
        } catch (CliFailure unreadable) {
            return Optional.empty();
        }
    }

    /** Every member of the mesh started here, and whether it still runs; empty when none was started. */
    public List<MemberStatus> status() {
        return state().map(s -> s.members().stream().map(m -> new MemberStatus(m, process(m).isPresent())).toList())
                .orElse(List.of());
    }

    /** The members whose processes are still alive. */
    public List<Member> running() {
        return status().stream().filter(MemberStatus::running).map(MemberStatus::member).toList();
    }

    /**
     * Starts the broker, waits for it to serve, then starts the runtimes and waits until each serves on
     * {@code grpc.health.v1} and is registered with the broker as SERVING. When the mesh is already up, answers
     * it as it is. When anything fails (a port taken, a service that exits or does not serve in time), stops what
     * it started and fails with the end of that service's log.
     *
     * @param progress told each step, for people watching
     * @throws CliFailure with what went wrong and what to do
     */
    public Started start(Options options, Consumer<String> progress) {
        Optional<State> existing = state();
        if (existing.isPresent()) {
            List<Member> alive = running();
            if (alive.size() == existing.get().members().size()) {
                return new Started(existing.get(), true);
            }
            if (!alive.isEmpty()) {
                throw CliFailure.failed("the mesh in " + dir + " is partly up (" + names(alive) + " running, "
                        + names(existing.get().members().stream().filter(m -> !alive.contains(m)).toList())
                        + " not): stop it with `capmesh down` and start it again");
            }
            deleteState(); // every process is gone: a crash or a reboot left the file behind
        }
        Map<Service, Path> jars = jars(options);
        options.tls().ifPresent(tls -> new TlsDirectory(tls).require(Stream.concat(
                Arrays.stream(Service.values()).map(Service::serviceName), Stream.of(TlsDirectory.CLIENT)).toList()));
        Optional<AccessDirectory> access = options.access()
                ? Optional.of(new AccessDirectory(dir.resolve("access")).prepare()) : Optional.empty();
        ChannelCredentials channel = options.tls().map(tls -> new TlsDirectory(tls).clientCredentials())
                .orElseGet(InsecureChannelCredentials::create);
        ChannelCredentials credentials = access.map(a -> a.asOperator(channel)).orElse(channel);
        Map<Service, Ports> ports = ports(options);
        checkPortsFree(ports);
        try {
            Files.createDirectories(dir.resolve("logs"));
        } catch (IOException e) {
            throw CliFailure.failed("cannot create " + dir.resolve("logs") + ": " + e.getMessage());
        }

        List<Launched> launched = new ArrayList<>();
        Thread stopOnInterrupt = new Thread(() -> stopQuietly(launched), "capmesh-stop-partial-mesh");
        Runtime.getRuntime().addShutdownHook(stopOnInterrupt); // Ctrl-C while starting leaves nothing behind
        try {
            HostPort broker = ports.get(Service.BROKER).grpc();
            Launched brokerProcess = launch(Service.BROKER, jars.get(Service.BROKER), ports.get(Service.BROKER),
                    broker, options, credentials, progress);
            launched.add(brokerProcess);
            long deadline = System.nanoTime() + options.startTimeout().toNanos();
            awaitReady(List.of(brokerProcess), broker, credentials, deadline, options.startTimeout(), progress);
            List<Launched> runtimes = new ArrayList<>();
            for (Service runtime : Service.runtimes()) {
                Launched process = launch(runtime, jars.get(runtime), ports.get(runtime), broker, options,
                        credentials, progress);
                launched.add(process);
                runtimes.add(process);
            }
            awaitReady(runtimes, broker, credentials, deadline, options.startTimeout(), progress);
            State state = new State(dir, broker, Instant.now(), launched.stream().map(Launched::member).toList(),
                    options.tls().orElse(null), access.map(AccessDirectory::dir).orElse(null));
            writeState(state);
            return new Started(state, false);
        } catch (RuntimeException e) {
            stopQuietly(launched);
            throw e;
        } finally {
            removeHook(stopOnInterrupt);
        }
    }

    /**
     * Stops the runtimes (SIGTERM, so each deregisters from the broker), then the broker; a process still alive
     * after the grace period is killed. Removes the state file; stores and logs stay for the next start.
     *
     * @return how each service ended; empty when no mesh was started here
     */
    public List<Stopped> stop(Duration grace, Consumer<String> progress) {
        Optional<State> state = state();
        if (state.isEmpty()) {
            return List.of();
        }
        List<Member> runtimes = state.get().members().stream().filter(m -> !m.tier().isEmpty()).toList();
        List<Member> brokers = state.get().members().stream().filter(m -> m.tier().isEmpty()).toList();
        List<Stopped> stopped = new ArrayList<>(terminate(runtimes, grace, progress));
        stopped.addAll(terminate(brokers, grace, progress));
        deleteState();
        return stopped;
    }

    /** The live process of a member, if it is still the one that was started (a pid can be reused). */
    static Optional<ProcessHandle> process(Member member) {
        return ProcessHandle.of(member.pid()).filter(ProcessHandle::isAlive).filter(h -> sameProcess(h, member));
    }

    private static boolean sameProcess(ProcessHandle handle, Member member) {
        ProcessHandle.Info info = handle.info();
        if (info.startInstant().isPresent() && member.startedAt() != null) {
            return Duration.between(info.startInstant().get(), member.startedAt()).abs().compareTo(
                    Duration.ofSeconds(2)) < 0;
        }
        String jar = member.jar().getFileName().toString(); // the jar, or the directory prepared from it
        return info.commandLine().map(c -> c.contains(jar.substring(0, jar.length() - ".jar".length())))
                .orElse(true);
    }

    private List<Stopped> terminate(List<Member> members, Duration grace, Consumer<String> progress) {
        Map<Member, ProcessHandle> alive = new LinkedHashMap<>();
        List<Stopped> stopped = new ArrayList<>();
        for (Member member : members) {
            Optional<ProcessHandle> handle = process(member);
            if (handle.isPresent() && handle.get().destroy()) {
                alive.put(member, handle.get());
                progress.accept("stopping " + member.service() + " (pid " + member.pid() + ")");
            } else {
                stopped.add(new Stopped(member.service(), member.pid(), "not running", Duration.ZERO));
            }
        }
        long start = System.nanoTime();
        long deadline = start + grace.toNanos();
        for (var entry : alive.entrySet()) {
            Member member = entry.getKey();
            ProcessHandle handle = entry.getValue();
            String outcome = "stopped";
            if (!exited(handle, deadline - System.nanoTime())) {
                handle.destroyForcibly();
                outcome = exited(handle, TimeUnit.SECONDS.toNanos(10)) ? "killed" : "still running";
            }
            stopped.add(new Stopped(member.service(), member.pid(), outcome,
                    Duration.ofNanos(System.nanoTime() - start)));
        }
        return stopped;
    }

    private static boolean exited(ProcessHandle handle, long nanos) {
        try {
            handle.onExit().get(Math.max(nanos, 0), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return !handle.isAlive();
        } catch (ExecutionException e) {
            return !handle.isAlive();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !handle.isAlive();
        }
    }

    private record Ports(HostPort grpc, HostPort management) {
    }

    /** A service this start launched, with its channel for health checks. */
    private record Launched(Service service, Process process, Member member, ManagedChannel channel) {
    }

    private Map<Service, Path> jars(Options options) {
        Map<Service, Path> jars = new LinkedHashMap<>();
        Set<String> missing = new LinkedHashSet<>(); // runtimes beside one another share a guard
        for (Service service : Service.values()) {
            Path jar = jar(service, options).toAbsolutePath().normalize();
            if (!Files.isRegularFile(jar)) {
                missing.add(jar.toString());
            }
            if (service != Service.BROKER && !Files.isRegularFile(jar.resolveSibling(EXIT_GUARD_JAR))) {
                missing.add(jar.resolveSibling(EXIT_GUARD_JAR) + " (the exit guard every runtime starts with)");
            }
            jars.put(service, jar);
        }
        if (!missing.isEmpty()) {
            throw CliFailure.failed("missing " + String.join(", ", missing) + ": " + BUILD_FIRST
                    + " (or point --jars at a directory holding capmesh-<service>.jar and " + EXIT_GUARD_JAR + ")");
        }
        return jars;
    }

    private static Path jar(Service service, Options options) {
        Optional<Path> directory = options.jars()
                .or(() -> Optional.ofNullable(System.getProperty("capmesh.jars")).map(Path::of));
        if (directory.isPresent()) {
            return directory.get().resolve(service.jarName());
        }
        Path home = Path.of(System.getProperty("capmesh.home", ""));
        return home.resolve(service.module).resolve("target").resolve(service.jarName());
    }

    private static Map<Service, Ports> ports(Options options) {
        int last = Service.values().length - 1;
        for (int base : new int[] {options.basePort(), options.managementBasePort()}) {
            if (base < 1 || base + last > 65_535) {
                throw CliFailure.usage("ports from " + base + " to " + (base + last) + " are not all valid: pick a"
                        + " base port from 1 to " + (65_535 - last));
            }
        }
        Map<Service, Ports> ports = new LinkedHashMap<>();
        for (Service service : Service.values()) {
            ports.put(service, new Ports(HostPort.loopback(options.basePort() + service.ordinal()),
                    HostPort.loopback(options.managementBasePort() + service.ordinal())));
        }
        Set<Integer> distinct = ports.values().stream()
                .flatMap(p -> Stream.of(p.grpc().port(), p.management().port())).collect(Collectors.toSet());
        if (distinct.size() != 2 * ports.size()) {
            throw CliFailure.usage("the gRPC ports (from " + options.basePort() + ") and the management ports (from "
                    + options.managementBasePort() + ") overlap: keep them at least " + ports.size() + " apart");
        }
        return ports;
    }

    private void checkPortsFree(Map<Service, Ports> ports) {
        for (var entry : ports.entrySet()) {
            for (HostPort port : List.of(entry.getValue().grpc(), entry.getValue().management())) {
                if (!free(port.port())) {
                    String which = port == entry.getValue().grpc() ? "gRPC" : "management";
                    throw CliFailure.failed("port " + port.port() + " (" + entry.getKey().serviceName() + " " + which
                            + ") is taken: stop what listens there, or pick other ports with --base-port");
                }
            }
        }
    }

    private static boolean free(int port) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Launched launch(Service service, Path jar, Ports ports, HostPort broker, Options options,
                            ChannelCredentials credentials, Consumer<String> progress) {
        Path log = dir.resolve("logs").resolve(service.serviceName() + ".log");
        List<String> command = new ArrayList<>(detach());
        Path prepared = prepared(jar);
        if (prepared != null) { // the build's prepared start: its run script, on this JVM's Java (see below)
            command.add(prepared.toString());
        } else {
            command.add(java());
            command.addAll(JVM_FLAGS);
            if (service != Service.BROKER) {
                command.add("-javaagent:" + jar.resolveSibling(EXIT_GUARD_JAR));
            }
            command.addAll(options.jvmOptions());
            command.addAll(List.of("-jar", jar.toString()));
        }
        command.addAll(List.of(
                "--spring.grpc.server.address=127.0.0.1",
                "--spring.grpc.server.port=" + ports.grpc().port(),
                "--server.address=127.0.0.1",
                "--server.port=" + ports.management().port(),
                "--capmesh.tracing.span-dir=" + spanDir()));
        if (service == Service.BROKER) {
            command.add("--capmesh.broker.store.url=jdbc:sqlite:" + dir.resolve("broker").resolve("leases.db"));
        } else {
            command.add("--capmesh.runtime.data-dir=" + dir.resolve(service.serviceName()));
            command.add("--capmesh.runtime.broker.address=" + broker.target());
            // a developer's mesh: every leak gets its reference path (production rate-limits the heap dumps)
            command.add("--capmesh.runtime.leak-paths.mode=every-leak");
        }
        options.tls().ifPresent(tls -> command.addAll(new TlsDirectory(tls).serviceArguments(service.serviceName())));
        if (options.access()) {
            command.addAll(new AccessDirectory(dir.resolve("access")).serviceArguments(service));
        }
        try {
            Files.createDirectories(dir.resolve(service == Service.BROKER ? "broker" : service.serviceName()));
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.to(log.toFile()));
            if (prepared != null) {
                builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
                builder.environment().put("JAVA_OPTS", String.join(" ", options.jvmOptions()));
            }
            Process process = builder.start();
            Instant startedAt = process.toHandle().info().startInstant().orElse(Instant.now());
            progress.accept("starting " + service.serviceName() + " on " + ports.grpc() + " (pid " + process.pid()
                    + ", log " + log + ")");
            Member member = new Member(service.serviceName(), service.tier(), ports.grpc(), ports.management(),
                    process.pid(), startedAt, log, jar);
            ManagedChannel channel = Grpc.newChannelBuilderForAddress(ports.grpc().host(), ports.grpc().port(),
                    credentials).build();
            return new Launched(service, process, member, channel);
        } catch (IOException e) {
            throw CliFailure.failed("cannot start " + service.serviceName() + ": " + e.getMessage());
        }
    }

    /**
     * The run script of the service prepared beside its jar by the build (tools/service-start/prepare: extracted,
     * with its agents and a start cache trained on the build's JDK), or null for a bare jar, which starts with the
     * same flags and no start cache.
     */
    static Path prepared(Path jar) {
        String name = jar.getFileName().toString();
        Path run = jar.resolveSibling(name.substring(0, name.length() - ".jar".length())).resolve("run");
        return Files.isExecutable(run) ? run : null;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * {@code setsid}, when there is one: the service gets its own session, so a Ctrl-C or a closed terminal later
     * does not reach it. (It execs in place, so the pid is the JVM's.)
     */
    private static List<String> detach() {
        for (String candidate : List.of("/usr/bin/setsid", "/bin/setsid")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return List.of(candidate);
            }
        }
        return List.of();
    }

    private void awaitReady(List<Launched> services, HostPort broker, ChannelCredentials credentials,
                            long deadline, Duration timeout, Consumer<String> progress) {
        long started = System.nanoTime();
        List<Launched> waiting = new ArrayList<>(services);
        while (!waiting.isEmpty()) {
            Map<Integer, ServingState> registered = waiting.stream().anyMatch(l -> l.service().isRuntime())
                    ? registeredRuntimes(broker, credentials) : Map.of();
            for (var it = waiting.iterator(); it.hasNext(); ) {
                Launched service = it.next();
                if (!service.process().isAlive()) {
                    throw CliFailure.failed(service.service().serviceName() + " exited with "
                            + service.process().exitValue() + " while starting; the end of " + service.member().log()
                            + ":\n" + tail(service.member().log()));
                }
                if (serving(service) && (!service.service().isRuntime()
                        || registered.get(service.member().grpc().port()) == ServingState.SERVING)) {
                    progress.accept(service.service().serviceName() + " is serving"
                            + (service.service().isRuntime() ? " and registered with the broker" : "") + " after "
                            + Durations.brief(Duration.ofNanos(System.nanoTime() - started)));
                    service.channel().shutdownNow();
                    it.remove();
                }
            }
            if (waiting.isEmpty()) {
                break;
            }
            if (System.nanoTime() > deadline) {
                Launched late = waiting.get(0);
                throw CliFailure.failed(names(waiting.stream().map(Launched::member).toList()) + " did not serve"
                        + (late.service().isRuntime() ? " and register with the broker" : "") + " within " + timeout
                        + " (raise it with --timeout); the end of " + late.member().log() + ":\n"
                        + tail(late.member().log()));
            }
            sleep(POLL);
        }
    }

    private static boolean serving(Launched service) {
        try {
            return HealthGrpc.newBlockingStub(service.channel()).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.getDefaultInstance()).getStatus()
                    == HealthCheckResponse.ServingStatus.SERVING;
        } catch (RuntimeException notYet) {
            return false;
        }
    }

    /** The runtimes the broker knows, by gRPC port, with their state. */
    private static Map<Integer, ServingState> registeredRuntimes(HostPort broker, ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress(broker.host(), broker.port(), credentials).build();
        try {
            return CapabilityBrokerGrpc.newBlockingStub(channel).withDeadlineAfter(1, TimeUnit.SECONDS)
                    .health(BrokerHealthRequest.getDefaultInstance()).getRuntimesList().stream()
                    .collect(Collectors.toMap(r -> r.getEndpoint().getPort(), RuntimeHealth::getState, (a, b) -> a));
        } catch (RuntimeException notYet) {
            return Map.of();
        } finally {
            channel.shutdownNow();
        }
    }

    private void stopQuietly(List<Launched> launched) {
        for (Launched service : List.copyOf(launched)) {
            service.channel().shutdownNow();
            service.process().destroy();
        }
        for (Launched service : List.copyOf(launched)) {
            try {
                if (!service.process().waitFor(15, TimeUnit.SECONDS)) {
                    service.process().destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                service.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or about to: it stops what was started
        }
    }

    private void writeState(State state) {
        Path file = stateFile();
        Path temporary = dir.resolve(STATE_FILE + ".tmp");
        try {
            Files.writeString(temporary, Json.PRETTY.toJson(state) + "\n", StandardCharsets.UTF_8);
            try {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    private void deleteState() {
        try {
            Files.deleteIfExists(stateFile());
        } catch (IOException e) {
            throw CliFailure.failed("cannot delete " + stateFile() + ": " + e.getMessage());
        }
    }

    /** The last lines of a log, for a failure message. */
    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    private static String names(List<Member> members) {
        return members.stream().map(Member::service).collect(Collectors.joining(", "));
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.failed("interrupted while waiting for the mesh to start");
        }
    }
}
