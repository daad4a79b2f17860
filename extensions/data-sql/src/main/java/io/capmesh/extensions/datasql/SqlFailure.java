package io.capmesh.extensions.datasql;

import io.capmesh.extension.api.CapabilityException;
import io.grpc.Status;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientConnectionException;

/**
 * An expected failure of a data.sql call, with the gRPC status it is answered with. Messages name the datasource
 * and the database's own words and SQL state, never a URL, user or password.
 */
final class SqlFailure extends RuntimeException {

    private final Status.Code code;

    SqlFailure(Status.Code code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    Status.Code code() {
        return code;
    }

    static SqlFailure unknownDatasource(String name) {
        return new SqlFailure(Status.Code.NOT_FOUND, "no datasource '" + name + "' in this runtime; configure it as"
                + " capmesh.data.datasources." + name + ".url, or leave datasource empty for 'main'");
    }

    static SqlFailure readOnly(String name) {
        return new SqlFailure(Status.Code.FAILED_PRECONDITION, "datasource '" + name + "' is read-only"
                + " (capmesh.data.datasources." + name + ".read-only); send writes to a read-write datasource");
    }

    static SqlFailure tooManyRows(int maxRows) {
        return new SqlFailure(Status.Code.RESOURCE_EXHAUSTED, "the result has more than " + maxRows + " rows, the"
                + " max-rows limit; add a LIMIT or a narrower WHERE, or read it with QueryStream");
    }

    static SqlFailure tooManyBytes(long maxBytes) {
        return new SqlFailure(Status.Code.RESOURCE_EXHAUSTED, "the result is larger than " + maxBytes + " bytes, the"
                + " max-result-bytes limit; select fewer or narrower columns, or read it with QueryStream");
    }

    static SqlFailure rowTooLarge(long maxBytes) {
        return new SqlFailure(Status.Code.RESOURCE_EXHAUSTED, "a single row is larger than " + maxBytes + " bytes,"
                + " the max-result-bytes limit; select fewer or narrower columns");
    }

    static SqlFailure invalid(String message) {
        return new SqlFailure(Status.Code.INVALID_ARGUMENT, message);
    }

    /** No connection could be had: the pool is exhausted or the database unreachable. */
    static SqlFailure unavailable(String datasource, SQLException e) {
        String state = e.getSQLState() == null ? "" : " (SQL state " + e.getSQLState() + ")";
        return new SqlFailure(Status.Code.UNAVAILABLE, "datasource '" + datasource + "' has no connection to give"
                + state + "; the database is unreachable, refuses the runtime's credentials, or every pooled"
                + " connection is busy (see the runtime's log and its hikaricp meters)");
    }

    static SqlFailure timedOut(String datasource, long timeoutMillis) {
        return new SqlFailure(Status.Code.DEADLINE_EXCEEDED, "the call did not finish within its statement timeout of "
                + timeoutMillis + " ms on datasource '" + datasource + "' (timeout_millis or the call's deadline, at"
                + " most max-statement-timeout-millis) and was cancelled");
    }

    /** What the database said about a statement, classified by its SQL state. */
    static SqlFailure of(SQLException e, String datasource, long timeoutMillis) {
        if (e instanceof BatchUpdateException && e.getNextException() != null) {
            e = e.getNextException(); // the database's own error, rather than the driver's summary of the batch
        }
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (e instanceof SQLTimeoutException || state.equals("57014")) {
            return timedOut(datasource, timeoutMillis);
        }
        if (e instanceof SQLTransientConnectionException || state.startsWith("08") || state.startsWith("28")) {
            return unavailable(datasource, e);
        }
        if (state.equals("25006")) {
            return readOnly(datasource);
        }
        String said = e.getMessage() + (state.isEmpty() ? "" : " (SQL state " + state + ")");
        if (state.startsWith("40")) {
            return new SqlFailure(Status.Code.ABORTED, "datasource '" + datasource + "' rolled the work back: "
                    + said + "; retry the whole call");
        }
        return invalid("datasource '" + datasource + "' refused the statement: " + said);
    }

    /** The same failure, its message prefixed with where it happened (e.g. which statement of a transaction). */
    SqlFailure at(String where) {
        return new SqlFailure(code, where + ": " + getMessage());
    }

    Status toStatus() {
        return Status.fromCode(code).withDescription(getMessage());
    }

    /** The same failure for the generic {@code Invoke}, with the same status. */
    CapabilityException toCapabilityException() {
        CapabilityException.Reason reason = switch (code) {
            case NOT_FOUND -> CapabilityException.Reason.NOT_FOUND;
            case FAILED_PRECONDITION -> CapabilityException.Reason.FAILED_PRECONDITION;
            case RESOURCE_EXHAUSTED -> CapabilityException.Reason.RESOURCE_EXHAUSTED;
            case DEADLINE_EXCEEDED -> CapabilityException.Reason.DEADLINE_EXCEEDED;
            case UNAVAILABLE -> CapabilityException.Reason.UNAVAILABLE;
            case ABORTED -> CapabilityException.Reason.ABORTED;
            default -> CapabilityException.Reason.INVALID_ARGUMENT;
        };
        return new CapabilityException(reason, getMessage());
    }
}
