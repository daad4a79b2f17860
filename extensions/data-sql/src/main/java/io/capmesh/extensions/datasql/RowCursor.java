package io.capmesh.extensions.datasql;

import io.capmesh.extensions.datasql.v1.Column;
import io.capmesh.extensions.datasql.v1.Row;
import io.capmesh.extensions.datasql.v1.RowBatch;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * An open query read a batch at a time, so a result of any size needs memory for one batch only: at most
 * {@code fetchSize} rows and {@code maxBatchBytes} encoded bytes. Not thread-safe; gRPC calls one stream's
 * handlers one at a time.
 */
final class RowCursor {

    private final SqlRunner.Budget budget;
    private final Connection connection;
    private final ResultSet rows;
    private final int fetchSize;
    private final long maxBatchBytes;
    private final List<Column> columns;
    private final int[] types;
    private boolean first = true;
    private boolean exhausted;
    private boolean closed;
    private Row pending; // read, but it would have made the last batch too large

    RowCursor(SqlRunner.Budget budget, Connection connection, ResultSet rows, int fetchSize, long maxBatchBytes)
            throws SQLException {
        this.budget = budget;
        this.connection = connection;
        this.rows = rows;
        this.fetchSize = fetchSize;
        this.maxBatchBytes = maxBatchBytes;
        this.columns = Values.columns(rows.getMetaData());
        this.types = Values.types(rows.getMetaData());
    }

    /** The next batch; the first one carries the columns, even when there are no rows. */
    RowBatch next() {
        RowBatch.Builder batch = RowBatch.newBuilder();
        if (first) {
            batch.addAllColumns(columns);
            first = false;
        }
        long bytes = 0;
        if (pending != null) {
            batch.addRows(pending);
            bytes = pending.getSerializedSize();
            pending = null;
        }
        try {
            while (batch.getRowsCount() < fetchSize) {
                if (!rows.next()) {
                    exhausted = true;
                    break;
                }
                Row row = Values.row(rows, types);
                int size = row.getSerializedSize();
                if (size > maxBatchBytes) {
                    throw SqlFailure.rowTooLarge(maxBatchBytes);
                }
                if (bytes + size > maxBatchBytes) {
                    pending = row;
                    break;
                }
                batch.addRows(row);
                bytes += size;
            }
        } catch (SQLException e) {
            throw budget.failure(e);
        }
        return batch.build();
    }

    /** True once every row has been handed out. */
    boolean exhausted() {
        return exhausted;
    }

    boolean isClosed() {
        return closed;
    }

    /** Ends a cursor read to the end: commits (the query may have written, e.g. with RETURNING) and closes. */
    void finish() {
        closed = true;
        try {
            connection.commit();
        } catch (SQLException e) {
            throw budget.failure(e);
        } finally {
            closeQuietly(connection, false);
        }
    }

    /** Ends a cursor early (the caller went away, or a row failed): rolls back and closes. */
    void abandon() {
        if (!closed) {
            closed = true;
            closeQuietly(connection, true);
        }
    }

    /** Gives the connection back to its pool, closing its statement and result with it. */
    static void closeQuietly(Connection connection, boolean rollback) {
        try (connection) {
            if (rollback && !connection.getAutoCommit()) {
                connection.rollback();
            }
        } catch (SQLException ignored) {
            // the pool discards a connection that fails here
        }
    }
}
