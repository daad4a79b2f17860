package io.capmesh.bench;

import io.capmesh.testsupport.ServiceProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A throwaway PostgreSQL cluster from the machine's own server (Debian's {@code postgresql-15}), on a loopback port,
 * trusting local connections. initdb refuses to run as root, so as root the cluster belongs to the
 * {@code postgres} user. Stopped, immediately, on close.
 */
final class LocalPostgres implements AutoCloseable {

    private static final Path SERVERS = Path.of("/usr/lib/postgresql");

    private final Path bin;
    private final Path data;
    private final int port;

    private LocalPostgres(Path bin, Path data, int port) {
        this.bin = bin;
        this.data = data;
        this.port = port;
    }

    static LocalPostgres start(Path dir) throws Exception {
        Path bin = newestServer();
        Path data = Files.createDirectories(dir).resolve("data");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            run(dir, List.of("chown", "postgres", dir.toString()), false);
        }
        int port = ServiceProcess.freePort();
        run(dir, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "capmesh",
                "--auth=trust", "-E", "UTF8"), root);
        run(dir, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                dir.resolve("postgres.log").toString(), "-w", "-o",
                "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c max_connections=100", "start"), root);
        return new LocalPostgres(bin, data, port);
    }

    String jdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + port + "/postgres";
    }

    String user() {
        return "capmesh";
    }

    @Override
    public void close() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        run(data.getParent(), List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate",
                "stop"), root);
    }

    private static Path newestServer() throws IOException {
        if (!Files.isDirectory(SERVERS)) {
            throw new IllegalStateException("no PostgreSQL server in " + SERVERS
                    + " (apt-get install postgresql-15)");
        }
        try (Stream<Path> versions = Files.list(SERVERS)) {
            return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Comparator.comparing(b -> Integer.parseInt(b.getParent().getFileName().toString())))
                    .orElseThrow(() -> new IllegalStateException("no initdb under " + SERVERS));
        }
    }

    private static void run(Path dir, List<String> command, boolean asPostgres) throws Exception {
        List<String> full = new ArrayList<>();
        if (asPostgres) {
            full.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        full.addAll(command);
        Path log = dir.resolve("commands.log");
        Process process = new ProcessBuilder(full).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " failed; see " + log);
        }
    }
}
