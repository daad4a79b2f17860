package io.capmesh.runtime.store;

import io.capmesh.runtime.pkg.ManifestReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The embedded default store: one SQLite file, written in WAL mode with full synchronisation, so that a
 * write that returned survives a crash of the process or the machine.
 */
public final class SqliteExtensionStore implements ExtensionStore {

    private final Connection connection;

    public SqliteExtensionStore(Path file) {
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            connection = DriverManager.getConnection("jdbc:sqlite:" + file.toAbsolutePath());
            try (Statement s = connection.createStatement()) {
                s.execute("PRAGMA journal_mode=WAL");
                s.execute("PRAGMA synchronous=FULL");
                s.execute("PRAGMA busy_timeout=5000");
                s.execute("""
                        CREATE TABLE IF NOT EXISTS extension (
                          id          TEXT PRIMARY KEY,
                          version     TEXT NOT NULL,
                          sha256      TEXT NOT NULL,
                          manifest    BLOB NOT NULL,
                          jar         BLOB NOT NULL,
                          deployed_at INTEGER NOT NULL,
                          invocations INTEGER NOT NULL DEFAULT 0,
                          failures    INTEGER NOT NULL DEFAULT 0
                        )""");
            }
        } catch (SQLException | java.io.IOException e) {
            throw new IllegalStateException("cannot open the extension store at " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void put(StoredExtension e) {
        update("""
                INSERT INTO extension (id, version, sha256, manifest, jar, deployed_at, invocations, failures)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET version = excluded.version, sha256 = excluded.sha256,
                  manifest = excluded.manifest, jar = excluded.jar, deployed_at = excluded.deployed_at,
                  invocations = excluded.invocations, failures = excluded.failures""",
                e.manifest().id(), e.manifest().version(), e.sha256(), ManifestReader.write(e.manifest()), e.jar(),
                e.deployedAt().toEpochMilli(), e.invocations(), e.failures());
    }

    @Override
    public synchronized void remove(String id) {
        update("DELETE FROM extension WHERE id = ?", id);
    }

    @Override
    public synchronized void setCounts(String id, long invocations, long failures) {
        update("UPDATE extension SET invocations = ?, failures = ? WHERE id = ?",
                invocations, failures, id);
    }

    @Override
    public synchronized List<StoredExtension> all() {
        List<StoredExtension> all = new ArrayList<>();
        try (Statement s = connection.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT manifest, sha256, jar, deployed_at, invocations, failures FROM extension ORDER BY id""")) {
            while (rs.next()) {
                all.add(new StoredExtension(ManifestReader.read(rs.getBytes(1), "stored extension"), rs.getString(2),
                        rs.getBytes(3), Instant.ofEpochMilli(rs.getLong(4)), rs.getLong(5), rs.getLong(6)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the extension store: " + e.getMessage(), e);
        }
        return all;
    }

    private void update(String sql, Object... args) {
        try (PreparedStatement ps = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                ps.setObject(i + 1, args[i]);
            }
            ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write the extension store: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // closing on the way out; nothing is pending, every write was committed when it returned
        }
    }
}
