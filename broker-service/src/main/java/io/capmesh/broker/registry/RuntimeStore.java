package io.capmesh.broker.registry;

import static io.capmesh.broker.store.Database.inTransaction;
import static io.capmesh.broker.store.Database.update;

import com.google.protobuf.InvalidProtocolBufferException;
import io.capmesh.broker.registry.RuntimeRegistry.Runtime;
import io.capmesh.broker.store.Database;
import io.capmesh.proto.v1.RegisterRequest;
import io.capmesh.proto.v1.ServingState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The registry's rows in the broker's store, shared by every broker replica: one row per runtime (its registration
 * as last heard, its state, whether its health probe answers, when and by which broker it was last heard), and one
 * revision number that every change of what clients are told raises, in the same transaction. A broker reads the
 * revision often and the rows only when it moved; a heartbeat that changes nothing writes its time alone and
 * raises nothing.
 */
public final class RuntimeStore {

    private final Database database;

    /** The registry's tables in {@code database}, created if missing. */
    public RuntimeStore(Database database) {
        this.database = database;
        database.createSchema("""
                CREATE TABLE IF NOT EXISTS mesh_runtime (
                  id             TEXT PRIMARY KEY,
                  registration   %s NOT NULL,
                  state          INTEGER NOT NULL,
                  reachable      INTEGER NOT NULL,
                  last_heartbeat BIGINT NOT NULL,
                  heard_by       TEXT NOT NULL
                )""".formatted(database.bytesType()), """
                CREATE TABLE IF NOT EXISTS mesh_revision (
                  id       INTEGER PRIMARY KEY,
                  revision BIGINT NOT NULL
                )""");
        database.use("start the registry in", c -> update(c,
                "INSERT INTO mesh_revision (id, revision) VALUES (1, 0) ON CONFLICT (id) DO NOTHING"));
    }

    /** What the store holds at one revision. */
    record Snapshot(long revision, List<Runtime> runtimes) {
    }

    /** The revision of the registry: it moves with every change a client could see. */
    long revision() {
        return database.use("read the registry's revision from", RuntimeStore::revision);
    }

    private static long revision(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT revision FROM mesh_revision WHERE id = 1");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Each runtime's last heartbeat, as written by whichever replica heard it. */
    Map<String, Instant> lastHeartbeats() {
        return database.use("read the runtimes' heartbeats from", c -> {
            Map<String, Instant> heard = new LinkedHashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT id, last_heartbeat FROM mesh_runtime");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    heard.put(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)));
                }
            }
            return heard;
        });
    }

    /**
     * Every runtime, with the revision read first: a change committed between the two reads shows in the rows and
     * raises the revision past the one answered, so the next look reads them again.
     */
    Snapshot load() {
        return database.use("read the registry from", c -> {
            long revision = revision(c);
            List<Runtime> runtimes = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT registration, state, reachable, last_heartbeat, heard_by FROM mesh_runtime ORDER BY id");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    RegisterRequest registration = parse(rs.getBytes(1));
                    runtimes.add(new Runtime(registration.getRuntimeId(), registration.getRuntimeTier(),
                            registration.getEndpoint(), registration.getOffersList(),
                            ServingState.forNumber(rs.getInt(2)), rs.getInt(3) == 1,
                            Instant.ofEpochMilli(rs.getLong(4)), rs.getString(5)));
                }
            }
            return new Snapshot(revision, runtimes);
        });
    }

    /** Writes the runtime's row whole, inserting or replacing it. */
    void put(Runtime runtime) {
        database.use("register a runtime in", c -> inTransaction(c, () -> {
            update(c, """
                    INSERT INTO mesh_runtime (registration, state, reachable, last_heartbeat, heard_by, id)
                    VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET registration = excluded.registration, state = excluded.state,
                      reachable = excluded.reachable, last_heartbeat = excluded.last_heartbeat,
                      heard_by = excluded.heard_by""", columns(runtime, true));
            return raise(c);
        }));
    }

    /**
     * Writes what a runtime's heartbeat says (its state, offers, and the broker that heard it) where the row
     * exists.
     *
     * @return false when there is no row: the runtime must register again
     */
    boolean rewrite(Runtime runtime) {
        return database.use("record a heartbeat in", c -> inTransaction(c, () -> {
            int updated = update(c, """
                    UPDATE mesh_runtime SET registration = ?, state = ?, last_heartbeat = ?, heard_by = ?
                    WHERE id = ?""", columns(runtime, false));
            return updated == 1 && raise(c);
        }));
    }

    /**
     * Replaces a runtime's offers alone (it has just loaded something, before its next heartbeat says so), keeping
     * when it was last heard.
     *
     * @return whether the row was there
     */
    boolean offers(String id, RegisterRequest registration) {
        return database.use("record a runtime's offers in", c -> inTransaction(c, () ->
                update(c, "UPDATE mesh_runtime SET registration = ? WHERE id = ?", registration.toByteArray(), id) == 1
                        && raise(c)));
    }

    /**
     * Records a heartbeat that changed nothing but the time: the row still has this state, and the same broker
     * heard the runtime last.
     *
     * @return false when the row is missing or says otherwise: write it whole instead
     */
    boolean touch(String id, ServingState state, Instant at, String heardBy) {
        return database.use("record a heartbeat in", c -> update(c,
                "UPDATE mesh_runtime SET last_heartbeat = ? WHERE id = ? AND heard_by = ? AND state = ?",
                at.toEpochMilli(), id, heardBy, state.getNumber()) == 1);
    }

    /** @return whether the runtime was there */
    boolean delete(String id) {
        return database.use("remove a runtime from", c -> inTransaction(c, () ->
                update(c, "DELETE FROM mesh_runtime WHERE id = ?", id) == 1 && raise(c)));
    }

    /** @return whether the probe's answer changed what the row said */
    boolean reachable(String id, boolean reachable) {
        return database.use("record a health probe in", c -> inTransaction(c, () ->
                update(c, "UPDATE mesh_runtime SET reachable = ? WHERE id = ? AND reachable <> ?",
                        reachable ? 1 : 0, id, reachable ? 1 : 0) == 1 && raise(c)));
    }

    /**
     * Marks the runtimes silent since {@code unhealthyBefore} as such, and removes those silent since
     * {@code dropBefore}. Every broker sweeps; the writes are conditional, so a row changes once.
     *
     * @return whether anything changed
     */
    boolean sweep(Instant unhealthyBefore, Instant dropBefore) {
        return database.use("sweep silent runtimes from", c -> inTransaction(c, () -> {
            int dropped = update(c, "DELETE FROM mesh_runtime WHERE last_heartbeat < ?", dropBefore.toEpochMilli());
            int silent = update(c, "UPDATE mesh_runtime SET state = ? WHERE state = ? AND last_heartbeat < ?",
                    ServingState.UNKNOWN_STATE_VALUE, ServingState.SERVING_VALUE, unhealthyBefore.toEpochMilli());
            return dropped + silent > 0 && raise(c);
        }));
    }

    /** Raises the revision, in the transaction of the change it announces. */
    private static boolean raise(Connection c) throws SQLException {
        update(c, "UPDATE mesh_revision SET revision = revision + 1 WHERE id = 1");
        return true;
    }

    private static Object[] columns(Runtime runtime, boolean withReachable) {
        byte[] registration = runtime.registration(runtime.offers()).toByteArray();
        List<Object> columns = new ArrayList<>(List.of(registration, runtime.state().getNumber()));
        if (withReachable) {
            columns.add(runtime.reachable() ? 1 : 0);
        }
        columns.addAll(List.of(runtime.lastHeartbeat().toEpochMilli(), runtime.heardBy(), runtime.id()));
        return columns.toArray();
    }

    private static RegisterRequest parse(byte[] bytes) throws SQLException {
        try {
            return RegisterRequest.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new SQLException("a runtime's registration in the store is not readable: " + e.getMessage(), e);
        }
    }
}
