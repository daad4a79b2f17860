package io.capmesh.broker.lease;

import static io.capmesh.broker.store.Database.bind;
import static io.capmesh.broker.store.Database.inTransaction;
import static io.capmesh.broker.store.Database.update;

import io.capmesh.broker.store.Database;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
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
        // placement counts the active leases of one capability per runtime
        "CREATE INDEX IF NOT EXISTS lease_grant_capability ON lease_grant (capability)",
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
    private final Database database;
    private final boolean ownsDatabase;

    /** Leases in {@code database}, which the caller closes. */
    public JdbcLeaseStore(Database database, Clock clock) {
        this(database, false, clock);
    }

    public JdbcLeaseStore(String url, Clock clock) {
        this(url, null, null, clock);
    }

    /** Leases in a database of their own, closed with the store; {@code user} and {@code password} may be null. */
    public JdbcLeaseStore(String url, String user, String password, Clock clock) {
        this(Database.open(url, user, password), true, clock);
    }

    private JdbcLeaseStore(Database database, boolean ownsDatabase, Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.database = database;
        this.ownsDatabase = ownsDatabase;
        try {
            database.createSchema(SCHEMA);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public Lease create(String account, List<Grant> grants, Duration ttl) {
        requireAccount(account);
        List<Grant> held = List.copyOf(grants);
        Instant now = clock.instant();
        long expiresAt = expiry(now, ttl);
        String id = newId();
        Lease lease = new Lease(id, account, Instant.ofEpochMilli(expiresAt), held);
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
            return lease;
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
    public Placements placements(String capability, String account) {
        Objects.requireNonNull(capability, "capability");
        requireAccount(account);
        long now = clock.millis();
        return run("count the placements of " + capability + " in", c -> {
            Map<String, Long> counts = new LinkedHashMap<>();
            String accountRuntime = null;
            long newest = Long.MIN_VALUE;
            try (PreparedStatement ps = c.prepareStatement("""
                    SELECT g.runtime_id, COUNT(*), MAX(CASE WHEN l.account = ? THEN l.created_at END)
                    FROM lease_grant g JOIN lease l ON l.id = g.lease_id
                    WHERE g.capability = ? AND l.expires_at > ?
                    GROUP BY g.runtime_id""")) {
                bind(ps, account, capability, now);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        counts.put(rs.getString(1), rs.getLong(2));
                        long created = rs.getLong(3);
                        if (!rs.wasNull() && created > newest) {
                            newest = created;
                            accountRuntime = rs.getString(1);
                        }
                    }
                }
            }
            return new Placements(counts, Optional.ofNullable(accountRuntime));
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
        if (ownsDatabase) {
            database.close();
        }
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

    private <T> T run(String what, Database.ConnectionWork<T> work) {
        return database.use(what, work);
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
}
