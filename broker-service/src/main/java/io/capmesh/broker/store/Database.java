package io.capmesh.broker.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * The broker's database, where everything the broker replicas share lives: SQLite ({@code jdbc:sqlite:<file>}, the
 * embedded default: one connection, one operation at a time) or PostgreSQL ({@code jdbc:postgresql://...}, shared by
 * several replicas: a small HikariCP pool, so no operation waits for a connection to be set up).
 *
 * <p>A failure names what was being done; one that may pass (the database away, busy or restarting) is a
 * {@link StoreUnavailableException}, so that a caller can answer UNAVAILABLE (retry elsewhere or later).
 */
public final class Database implements AutoCloseable {

    private static final String SQLITE = "jdbc:sqlite:";
    private static final String POSTGRESQL = "jdbc:postgresql:";
    private static final Duration SQLITE_BUSY_TIMEOUT = Duration.ofSeconds(5);
    /** SQLite's result codes for a lock held by another connection, and by another statement of this one. */
    private static final int SQLITE_BUSY = 5;
    private static final int SQLITE_LOCKED = 6;
    /** Serialises schema creation between brokers starting at once against one PostgreSQL. */
    private static final long SCHEMA_LOCK = 0x636170_6d657368L;

    private final String url;
    private final Connections connections;

    private Database(String url, Connections connections) {
        this.url = url;
        this.connections = connections;
    }

    /**
     * Opens the database at {@code url}; {@code user} and {@code password} may be null (SQLite, or a URL that
     * carries them).
     *
     * @throws IllegalArgumentException for a URL of another database
     * @throws IllegalStateException    when it cannot be opened, saying why
     */
    public static Database open(String url, String user, String password) {
        try {
            if (url.startsWith(SQLITE)) {
                return new Database(url, new Shared(openSqlite(url)));
            }
            if (url.startsWith(POSTGRESQL)) {
                return new Database(url, new Pooled(url, user, password));
            }
        } catch (SQLException | IOException | RuntimeException e) {
            throw new IllegalStateException("cannot open the broker's store at " + url + ": " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("unsupported store URL '" + url
                + "': use jdbc:sqlite:<file> or jdbc:postgresql://<host>/<database>");
    }

    public boolean postgres() {
        return url.startsWith(POSTGRESQL);
    }

    /** The column type for bytes. */
    public String bytesType() {
        return postgres() ? "BYTEA" : "BLOB";
    }

    /**
     * Creates what is missing of a schema. In PostgreSQL, concurrent {@code CREATE TABLE IF NOT EXISTS} can still
     * fail (a unique violation in its catalog), so brokers starting together take turns under an advisory lock;
     * DDL is transactional there and the lock ends with it.
     */
    public void createSchema(String... ddl) {
        use("create the schema of", c -> {
            if (!postgres()) {
                try (Statement s = c.createStatement()) {
                    for (String statement : ddl) {
                        s.execute(statement);
                    }
                }
                return null;
            }
            return inTransaction(c, () -> {
                try (Statement s = c.createStatement()) {
                    s.execute("SELECT pg_advisory_xact_lock(" + SCHEMA_LOCK + ")");
                    for (String statement : ddl) {
                        s.execute(statement);
                    }
                }
                return null;
            });
        });
    }

    /**
     * Runs {@code work} on a connection.
     *
     * @param what what the work does, for the error: "renew a lease in", read as "cannot renew a lease in the
     *             broker's store"
     */
    public <T> T use(String what, ConnectionWork<T> work) {
        try {
            return connections.use(work);
        } catch (SQLException e) {
            String message = "cannot " + what + " the broker's store: " + e.getMessage();
            throw mayPass(e) ? new StoreUnavailableException(message, e) : new IllegalStateException(message, e);
        }
    }

    /**
     * Whether a failure may pass on its own, so that the call is worth trying again (on another replica, or
     * later): the database cannot be reached, is shutting down or overloaded, or a lock or a serialization conflict
     * stood in the way. Anything else (a constraint, a row it cannot read) is a fault, not an outage.
     */
    private static boolean mayPass(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        return e instanceof java.sql.SQLTransientException || e instanceof java.sql.SQLRecoverableException
                || state.startsWith("08") || state.startsWith("53") || state.startsWith("57P")
                || state.equals("40001") || state.equals("40P01")
                || e.getErrorCode() == SQLITE_BUSY || e.getErrorCode() == SQLITE_LOCKED;
    }

    /** Runs {@code work} in one transaction on {@code c}: committed if it returns, rolled back if it throws. */
    public static <T> T inTransaction(Connection c, Work<T> work) throws SQLException {
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

    /** Runs one statement with {@code args} bound in order, and answers how many rows it changed. */
    public static int update(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            bind(ps, args);
            return ps.executeUpdate();
        }
    }

    public static void bind(PreparedStatement ps, Object... args) throws SQLException {
        for (int i = 0; i < args.length; i++) {
            ps.setObject(i + 1, args[i]);
        }
    }

    @Override
    public void close() {
        connections.close();
    }

    @Override
    public String toString() {
        return "Database[" + url.replaceFirst("\\?.*", "") + "]";
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
                throw new SQLException("interrupted while switching the store to write-ahead logging", e);
            }
        }
    }

    @FunctionalInterface
    public interface Work<T> {
        T run() throws SQLException;
    }

    @FunctionalInterface
    public interface ConnectionWork<T> {
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

    /**
     * PostgreSQL: a pool. A connection that cannot be had within a few seconds fails the operation (the database
     * is away), and the start fails at once when the database cannot be reached, as it did without a pool.
     */
    private static final class Pooled implements Connections {
        private final HikariDataSource pool;

        Pooled(String url, String user, String password) {
            HikariConfig config = new HikariConfig();
            config.setPoolName("capmesh-broker-store");
            config.setJdbcUrl(url);
            config.setUsername(user);
            config.setPassword(password);
            config.setMaximumPoolSize(8);
            config.setMinimumIdle(2);
            config.setConnectionTimeout(Duration.ofSeconds(5).toMillis());
            config.setValidationTimeout(Duration.ofSeconds(2).toMillis());
            pool = new HikariDataSource(config);
        }

        @Override
        public <T> T use(ConnectionWork<T> work) throws SQLException {
            try (Connection c = pool.getConnection()) {
                return work.run(c);
            }
        }

        @Override
        public void close() {
            pool.close();
        }
    }
}
