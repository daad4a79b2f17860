package io.capmesh.extensions.datasql;

import io.capmesh.extensions.datasql.v1.BatchRequest;
import io.capmesh.extensions.datasql.v1.BatchResult;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.ExecuteResult;
import io.capmesh.extensions.datasql.v1.Params;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.Row;
import io.capmesh.extensions.datasql.v1.Statement;
import io.capmesh.extensions.datasql.v1.StatementResult;
import io.capmesh.extensions.datasql.v1.TransactionRequest;
import io.capmesh.extensions.datasql.v1.TransactionResult;
import io.capmesh.extensions.datasql.v1.Value;
import io.grpc.Context;
import io.grpc.Deadline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The data.sql operations over the host's pools. Each call borrows one connection for its whole length and gives
 * it back before answering; nothing is kept between calls, so a swap only has to wait for calls in flight.
 * Writes ({@code execute}, {@code batch}, {@code transaction}) are refused on a connection that says it is
 * read-only, which is how the host marks a read-only datasource.
 */
final class SqlRunner {

    static final String DEFAULT_DATASOURCE = "main";

    private final Function<String, Optional<DataSource>> datasources;
    private final SqlLimits limits;

    SqlRunner(Function<String, Optional<DataSource>> datasources, SqlLimits limits) {
        this.datasources = datasources;
        this.limits = limits;
    }

    QueryResult query(QueryRequest request) {
        Budget budget = budget(request.getDatasource(), request.getTimeoutMillis());
        try (Connection connection = connect(budget.datasource());
             PreparedStatement statement = prepare(connection, request.getSql(), request.getParamsList(), budget)) {
            statement.setMaxRows(rowsToAskFor());
            try (ResultSet rows = statement.executeQuery()) {
                return readAll(rows, 0);
            }
        } catch (SQLException e) {
            throw budget.failure(e);
        }
    }

    /** Opens a query to be read a batch at a time; the caller must finish or abandon the cursor. */
    RowCursor open(QueryRequest request) {
        Budget budget = budget(request.getDatasource(), request.getTimeoutMillis());
        Connection connection = connect(budget.datasource());
        try {
            // PostgreSQL reads through a server-side cursor, a fetch at a time, only inside a transaction
            connection.setAutoCommit(false);
            PreparedStatement statement = prepare(connection, request.getSql(), request.getParamsList(), budget);
            int fetchSize = limits.fetchSize(request.getFetchSize());
            statement.setFetchSize(fetchSize);
            return new RowCursor(budget, connection, statement.executeQuery(), fetchSize, limits.maxResultBytes());
        } catch (SQLException | RuntimeException e) {
            RowCursor.closeQuietly(connection, true);
            throw e instanceof SQLException sql ? budget.failure(sql) : (RuntimeException) e;
        }
    }

    ExecuteResult execute(ExecuteRequest request) {
        Budget budget = budget(request.getDatasource(), request.getTimeoutMillis());
        try (Connection connection = connectForWrites(budget.datasource());
             PreparedStatement statement = prepare(connection, request.getSql(), request.getParamsList(), budget)) {
            return ExecuteResult.newBuilder().setUpdated(statement.executeLargeUpdate()).build();
        } catch (SQLException e) {
            throw budget.failure(e);
        }
    }

    BatchResult batch(BatchRequest request) {
        Budget budget = budget(request.getDatasource(), request.getTimeoutMillis());
        try (Connection connection = connectForWrites(budget.datasource())) {
            long[] updated = inTransaction(connection, () -> {
                try (PreparedStatement statement = prepare(connection, request.getSql(), List.of(), budget)) {
                    for (Params params : request.getParamSetsList()) {
                        Values.bind(statement, params.getValuesList());
                        statement.addBatch();
                    }
                    return statement.executeLargeBatch();
                }
            });
            return BatchResult.newBuilder().addAllUpdated(Arrays.stream(updated).boxed().toList()).build();
        } catch (SQLException e) {
            throw budget.failure(e);
        }
    }

    TransactionResult transaction(TransactionRequest request) {
        Budget budget = budget(request.getDatasource(), request.getTimeoutMillis());
        List<Statement> statements = request.getStatementsList();
        if (statements.isEmpty()) {
            throw SqlFailure.invalid("a transaction needs at least one statement");
        }
        try (Connection connection = connectForWrites(budget.datasource())) {
            return inTransaction(connection, () -> {
                TransactionResult.Builder results = TransactionResult.newBuilder();
                long bytes = 0;
                for (int i = 0; i < statements.size(); i++) {
                    try {
                        StatementResult result = run(connection, statements.get(i), budget, bytes);
                        bytes += result.getRows().getSerializedSize();
                        results.addResults(result);
                    } catch (SQLException e) {
                        throw budget.failure(e).at(where(i, statements.size()));
                    } catch (SqlFailure e) {
                        throw e.at(where(i, statements.size()));
                    }
                }
                return results.build();
            });
        } catch (SQLException e) {
            throw budget.failure(e); // the commit itself failed: nothing was committed
        }
    }

    private StatementResult run(Connection connection, Statement statement, Budget budget, long bytesSoFar)
            throws SQLException {
        try (PreparedStatement prepared = prepare(connection, statement.getSql(), statement.getParamsList(), budget)) {
            prepared.setMaxRows(rowsToAskFor());
            if (!prepared.execute()) {
                return StatementResult.newBuilder().setUpdated(prepared.getLargeUpdateCount()).build();
            }
            try (ResultSet rows = prepared.getResultSet()) {
                return StatementResult.newBuilder().setRows(readAll(rows, bytesSoFar)).build();
            }
        }
    }

    private static String where(int index, int count) {
        return "statement " + (index + 1) + " of " + count + " failed and the transaction was rolled back";
    }

    /** All rows, within max-rows and, counting {@code bytesSoFar} already answered, max-result-bytes. */
    private QueryResult readAll(ResultSet rows, long bytesSoFar) throws SQLException {
        ResultSetMetaData meta = rows.getMetaData();
        int[] types = Values.types(meta);
        QueryResult.Builder result = QueryResult.newBuilder().addAllColumns(Values.columns(meta));
        long bytes = bytesSoFar;
        while (rows.next()) {
            if (result.getRowsCount() == limits.maxRows()) {
                throw SqlFailure.tooManyRows(limits.maxRows());
            }
            Row row = Values.row(rows, types);
            bytes += row.getSerializedSize();
            if (bytes > limits.maxResultBytes()) {
                throw SqlFailure.tooManyBytes(limits.maxResultBytes());
            }
            result.addRows(row);
        }
        return result.build();
    }

    /** One more row than allowed, so that going over is noticed without fetching the rest. */
    private int rowsToAskFor() {
        return (int) Math.min(Integer.MAX_VALUE, limits.maxRows() + 1L);
    }

    private Connection connect(String name) {
        DataSource source = datasources.apply(name).orElseThrow(() -> SqlFailure.unknownDatasource(name));
        try {
            return source.getConnection();
        } catch (SQLException e) {
            throw SqlFailure.unavailable(name, e);
        }
    }

    private Connection connectForWrites(String name) throws SQLException {
        Connection connection = connect(name);
        boolean readOnly;
        try {
            readOnly = connection.isReadOnly();
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        if (readOnly) {
            connection.close();
            throw SqlFailure.readOnly(name);
        }
        return connection;
    }

    private static PreparedStatement prepare(Connection connection, String sql, List<Value> params, Budget budget)
            throws SQLException {
        if (sql.isBlank()) {
            throw SqlFailure.invalid("sql is empty");
        }
        PreparedStatement statement = connection.prepareStatement(sql);
        try {
            statement.setQueryTimeout(budget.remainingSeconds());
            Values.bind(statement, params);
            return statement;
        } catch (SQLException | RuntimeException e) {
            statement.close();
            throw e;
        }
    }

    private interface Work<T> {
        T run() throws SQLException;
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    private static <T> T inTransaction(Connection connection, Work<T> work) throws SQLException {
        connection.setAutoCommit(false);
        try {
            T result = work.run();
            connection.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            try {
                connection.rollback();
            } catch (SQLException alsoFailed) {
                e.addSuppressed(alsoFailed);
            }
            throw e;
        }
    }

    /** A call's time: what it asked for (or the default), at most the cap and at most the caller's deadline. */
    private Budget budget(String datasource, long requestedMillis) {
        long millis = limits.timeoutMillis(requestedMillis);
        Deadline deadline = Context.current().getDeadline();
        if (deadline != null) {
            millis = Math.min(millis, Math.max(0, deadline.timeRemaining(TimeUnit.MILLISECONDS)));
        }
        String name = datasource.isEmpty() ? DEFAULT_DATASOURCE : datasource;
        return new Budget(name, millis, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** The time one call may spend on its datasource, shared by all its statements. */
    record Budget(String datasource, long millis, long deadlineNanos) {

        /** For JDBC's whole-second statement timeout: what is left, rounded up; fails once nothing is left. */
        int remainingSeconds() {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                throw SqlFailure.timedOut(datasource, millis);
            }
            return (int) Math.min(Integer.MAX_VALUE, (left + 999_999_999L) / 1_000_000_000L);
        }

        SqlFailure failure(SQLException e) {
            return SqlFailure.of(e, datasource, millis);
        }
    }
}
