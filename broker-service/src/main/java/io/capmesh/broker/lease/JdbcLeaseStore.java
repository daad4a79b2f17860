package io.capmesh.broker.lease;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;

/**
 * Leases in SQLite ({@code jdbc:sqlite:<file>}, the embedded default) or PostgreSQL ({@code jdbc:postgresql://...},
 * for several brokers sharing one database).
 *
 * <p>Every operation is a single statement or a single transaction, and renew and release are conditional writes
 * whose row count says what happened; nothing is read first and written after, so brokers racing on one lease
 * (or racing {@link #expire}) cannot both win. Times are epoch milliseconds from the {@link Clock} given, so
 * brokers sharing a database should keep their clocks in sync.
 */
public final class JdbcLeaseStore implements LeaseStore {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String SQLITE = "jdbc:sqlite:";
    private static final Duration SQLITE_BUSY_TIMEOUT = Duration.ofSeconds(5);
    /** SQLite's result code for a lock held by another connection. */
    private static final int SQLITE_BUSY = 5;
    private static final String POSTGRESQL = "jdbc:postgresql:";
    /** Serialises schema creation between brokers starting at once against one PostgreSQL. */
    private static final long SCHEMA_LOCK = 0x636170_6d657368L;

    private static final String[] SCHEMA = {
        """
        CREATE TABLE IF NOT EXISTS lease (
          id         TEXT PRIMARY KEY,
          account    TEXT NOT NULL,
          expires_at BIGINT NOT NULL,
          created_at BIGINT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS lease_expires_at ON lease (expires_at)",
        """
        CREATE TABLE IF NOT EXISTS lease_grant (
          lease_id   TEXT NOT NULL REFERENCES lease (id) ON DELETE CASCADE,
          seq        INTEGER NOT NULL,
          capability TEXT NOT NULL,
          version    TEXT NOT NULL,
          runtime_id TEXT NOT NULL,
          host       TEXT NOT NULL,
          port       INTEGER NOT NULL,
          PRIMARY KEY (lease_id, seq)
        )""",
        "CREATE INDEX IF NOT EXISTS lease_grant_runtime ON lease_grant (runtime_id)",
        // leases released before they expired, kept until they would have: their tokens stay refused
        """
        CREATE TABLE IF NOT EXISTS released_lease (
          id         TEXT PRIMARY KEY,
          expires_at BIGINT NOT NULL
        )""",
    };

    private static final String SELECT_LEASES = """
            SELECT l.id, l.account, l.expires_at, g.capability, g.version, g.runtime_id, g.host, g.port
            FROM lease l LEFT JOIN lease_grant g ON g.lease_id = l.id
            """;

    private final Clock clock;
    private final Connections connections;

    public JdbcLeaseStore(String url, Clock clock) {
        this(url, null, null, clock);
    }

    /** {@code user} and {@code password} may be null (for SQLite, or when the URL carries them). */
    public JdbcLeaseStore(String url, String user, String password, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        try {
            if (url.startsWith(SQLITE)) {
                connections = new Shared(openSqlite(url));
            } else if (url.startsWith(POSTGRESQL)) {
                connections = new PerOperation(url, user, password);
            } else {
                throw new IllegalArgumentException("unsupported lease store URL '" + url
                        + "': use jdbc:sqlite:<file> or jdbc:postgresql://<host>/<database>");
            }
            connections.use(c -> {
                createSchema(c, url.startsWith(POSTGRESQL));
                return null;
            });
        } catch (SQLException | IOException e) {
            throw new IllegalStateException("cannot open the lease store at " + url + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Lease create(String account, List<Grant> grants, Duration ttl) {
        requireAccount(account);
        List<Grant> held = List.copyOf(grants);
        Instant now = clock.instant();
        long expiresAt = expiry(now, ttl);
        String id = newId();
        return run("write a lease to", c -> inTransaction(c, () -> {
            update(c, "INSERT INTO lease (id, account, expires_at, created_at) VALUES (?, ?, ?, ?)",
                    id, account, expiresAt, now.toEpochMilli());
            if (!held.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO lease_grant (lease_id, seq, capability, version, runtime_id, host, port)
                        VALUES (?, ?, ?, ?, ?, ?, ?)""")) {
                    for (int i = 0; i < held.size(); i++) {
                        Grant g = held.get(i);
                        bind(ps, id, i, g.capability(), g.version(), g.runtimeId(), g.host(), g.port());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
            }
            return new Lease(id, account, Instant.ofEpochMilli(expiresAt), held);
        }));
    }

    @Override
    public Optional<Lease> find(String id) {
        Objects.requireNonNull(id, "id");
        long now = clock.millis();
        return run("read a lease from", c -> query(c, SELECT_LEASES
                + "WHERE l.id = ? AND l.expires_at > ? ORDER BY l.id, g.seq", id, now)).stream().findFirst();
    }

    @Override
    public Outcome renew(String id, String account, Duration ttl) {
        Objects.requireNonNull(id, "id");
        requireAccount(account);
        Instant now = clock.instant();
        long expiresAt = expiry(now, ttl);
        return run("renew a lease in", c -> {
            int renewed = update(c, "UPDATE lease SET expires_at = ? WHERE id = ? AND account = ? AND expires_at > ?",
                    expiresAt, id, account, now.toEpochMilli());
            return renewed == 1 ? Outcome.renewed(Instant.ofEpochMilli(expiresAt))
                    : whyNot(c, id, account, now.toEpochMilli());
        });
    }

    @Override
    public Outcome release(String id, String account) {
        Objects.requireNonNull(id, "id");
        requireAccount(account);
        long now = clock.millis();
        return run("release a lease in", c -> inTransaction(c, () -> {
            update(c, """
                    INSERT INTO released_lease (id, expires_at)
                    SELECT id, expires_at FROM lease WHERE id = ? AND account = ? AND expires_at > ?
                    ON CONFLICT (id) DO NOTHING""", id, account, now);
            // The grants go with the lease (ON DELETE CASCADE), in the same statement.
            int released = update(c, "DELETE FROM lease WHERE id = ? AND account = ? AND expires_at > ?",
                    id, account, now);
            return released == 1 ? Outcome.released(Instant.ofEpochMilli(now)) : whyNot(c, id, account, now);
        }));
    }

    @Override
    public int expire(Instant now) {
        long at = now.toEpochMilli();
        return run("expire leases in", c -> {
            update(c, "DELETE FROM released_lease WHERE expires_at <= ?", at);
            return update(c, "DELETE FROM lease WHERE expires_at <= ?", at);
        });
    }

    @Override
    public Map<String, Instant> released(Instant now) {
        long at = now.toEpochMilli();
        return run("read released leases from", c -> {
            Map<String, Instant> released = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id, expires_at FROM released_lease WHERE expires_at > ? ORDER BY id")) {
                ps.setLong(1, at);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        released.put(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
                    }
                }
            }
            return released;
        });
    }

    @Override
    public long count() {
        long now = clock.millis();
        return run("count leases in", c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM lease WHERE expires_at > ?")) {
                ps.setLong(1, now);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }

    @Override
    public List<Lease> byRuntime(String runtimeId) {
        Objects.requireNonNull(runtimeId, "runtimeId");
        long now = clock.millis();
        return run("read leases from", c -> query(c, SELECT_LEASES + """
                WHERE l.expires_at > ? AND l.id IN (SELECT lease_id FROM lease_grant WHERE runtime_id = ?)
                ORDER BY l.id, g.seq""", now, runtimeId));
    }

    @Override
    public void close() {
        connections.close();
    }

    /**
     * Says why a conditional write touched no row. The write already decided; this read only explains it, and a
     * lease never changes account, so finding it under another account means it was never the caller's.
     */
    private static Outcome whyNot(Connection c, String id, String account, long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT account FROM lease WHERE id = ? AND expires_at > ?")) {
            bind(ps, id, now);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && !rs.getString(1).equals(account) ? Outcome.WRONG_ACCOUNT : Outcome.NOT_FOUND;
            }
        }
    }

    private static void createSchema(Connection c, boolean postgres) throws SQLException {
        if (!postgres) {
            try (Statement s = c.createStatement()) {
                for (String ddl : SCHEMA) {
                    s.execute(ddl);
                }
            }
            return;
        }
        // Concurrent CREATE TABLE IF NOT EXISTS can still fail in PostgreSQL (a unique violation in its catalog),
        // so brokers starting together take turns; DDL is transactional there and the lock ends with it.
        inTransaction(c, () -> {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
                for (String ddl : SCHEMA) {
                    s.execute(ddl);
                }
            }
            return null;
        });
    }

    private static Connection openSqlite(String url) throws SQLException, IOException {
        String file = url.substring(SQLITE.length()).replaceFirst("\\?.*", "");
        if (!file.isEmpty() && !file.startsWith(":") && !file.startsWith("file:")) {
            Path parent = Path.of(file).toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
        }
        // Immediate transactions take the write lock up front, so two brokers never deadlock upgrading a read lock.
        Properties pragmas = new Properties();
        pragmas.setProperty("busy_timeout", Long.toString(SQLITE_BUSY_TIMEOUT.toMillis()));
        pragmas.setProperty("synchronous", "FULL");
        pragmas.setProperty("foreign_keys", "true");
        pragmas.setProperty("transaction_mode", "IMMEDIATE");
        Connection connection = DriverManager.getConnection(url, pragmas);
        try {
            useWriteAheadLog(connection);
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }

    /**
     * Switches the file to write-ahead logging; the mode is kept in the file, so only its first opener changes it.
     * SQLite answers a switch that meets another connection's lock with SQLITE_BUSY at once, without waiting for
     * the busy timeout, so brokers that open a new file together would fail; they try again until the timeout.
     */
    private static void useWriteAheadLog(Connection connection) throws SQLException {
        long deadline = System.nanoTime() + SQLITE_BUSY_TIMEOUT.toNanos();
        while (true) {
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                return;
            } catch (SQLException e) {
                if (e.getErrorCode() != SQLITE_BUSY || System.nanoTime() > deadline) {
                    throw e;
                }
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while switching the lease store to write-ahead logging", e);
            }
        }
    }

    private static List<Lease> query(Connection c, String sql, Object... args) throws SQLException {
        List<Lease> leases = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            try (ResultSet rs = ps.executeQuery()) {
                // One row per grant (or one with null grant columns for a lease without grants), ordered by lease.
                String id = null;
                String account = null;
                long expiresAt = 0;
                List<Grant> grants = new ArrayList<>();
                while (rs.next()) {
                    if (!rs.getString(1).equals(id)) {
                        if (id != null) {
                            leases.add(new Lease(id, account, Instant.ofEpochMilli(expiresAt), grants));
                        }
                        id = rs.getString(1);
                        account = rs.getString(2);
                        expiresAt = rs.getLong(3);
                        grants = new ArrayList<>();
                    }
                    if (rs.getString(4) != null) {
                        grants.add(new Grant(rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7),
                                rs.getInt(8)));
                    }
                }
                if (id != null) {
                    leases.add(new Lease(id, account, Instant.ofEpochMilli(expiresAt), grants));
                }
            }
        }
        return leases;
    }

    private static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    private static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
    }

    private static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
        c.setAutoCommit(false);
        try {
            T result = work.run();
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                c.rollback();
            } catch (SQLException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private <T> T run(String what, ConnectionWork<T> work) {
        try {
            return connections.use(work);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot " + what + " the lease store: " + e.getMessage(), e);
        }
    }

    private static long expiry(Instant now, Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("a lease needs a positive time to live, not " + ttl);
        }
        return now.plus(ttl).toEpochMilli();
    }

    private static void requireAccount(String account) {
        if (account == null || account.isBlank()) {
            throw new IllegalArgumentException("a lease needs an account");
        }
    }

    /** 128 random bits: unguessable, so a lease id cannot be renewed or released by someone who only guessed it. */
    private static String newId() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    @FunctionalInterface
    private interface Work<T> {
        T run() throws SQLException;
    }

    @FunctionalInterface
    private interface ConnectionWork<T> {
        T run(Connection c) throws SQLException;
    }

    /** How operations get a connection. */
    private interface Connections {
        <T> T use(ConnectionWork<T> work) throws SQLException;

        void close();
    }

    /** SQLite: one connection, one operation at a time (SQLite serialises writers anyway). */
    private static final class Shared implements Connections {
        private final Connection connection;

        Shared(Connection connection) {
            this.connection = connection;
        }

        @Override
        public synchronized <T> T use(ConnectionWork<T> work) throws SQLException {
            return work.run(connection);
        }

        @Override
        public synchronized void close() {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // every write was committed when it returned; nothing is lost by a failed close
            }
        }
    }

    /** PostgreSQL: a connection per operation, so no operation waits on another's connection. */
    private static final class PerOperation implements Connections {
        private final String url;
        private final Properties properties = new Properties();

        PerOperation(String url, String user, String password) {
            this.url = url;
            if (user != null) {
                properties.setProperty("user", user);
            }
            if (password != null) {
                properties.setProperty("password", password);
            }
        }

        @Override
        public <T> T use(ConnectionWork<T> work) throws SQLException {
            try (Connection c = DriverManager.getConnection(url, properties)) {
                return work.run(c);
            }
        }

        @Override
        public void close() {
            // nothing held between operations
        }
    }
}
