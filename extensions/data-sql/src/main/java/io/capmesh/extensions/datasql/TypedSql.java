package io.capmesh.extensions.datasql;

import io.capmesh.extensions.datasql.v1.BatchRequest;
import io.capmesh.extensions.datasql.v1.BatchResult;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.ExecuteResult;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.RowBatch;
import io.capmesh.extensions.datasql.v1.SqlGrpc;
import io.capmesh.extensions.datasql.v1.TransactionRequest;
import io.capmesh.extensions.datasql.v1.TransactionResult;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;

/** {@code capmesh.data.sql.v1.Sql}: the typed face of data.sql. */
final class TypedSql extends SqlGrpc.SqlImplBase {

    private final SqlRunner sql;

    TypedSql(SqlRunner sql) {
        this.sql = sql;
    }

    @Override
    public void query(QueryRequest request, StreamObserver<QueryResult> observer) {
        answer(observer, () -> sql.query(request));
    }

    @Override
    public void execute(ExecuteRequest request, StreamObserver<ExecuteResult> observer) {
        answer(observer, () -> sql.execute(request));
    }

    @Override
    public void batch(BatchRequest request, StreamObserver<BatchResult> observer) {
        answer(observer, () -> sql.batch(request));
    }

    @Override
    public void transaction(TransactionRequest request, StreamObserver<TransactionResult> observer) {
        answer(observer, () -> sql.transaction(request));
    }

    /**
     * Streams at the caller's pace: a batch is read from the database only when gRPC says the caller can take
     * it ({@code isReady}), and gRPC calls the ready handler again when it can take more. No thread waits, and
     * nothing buffers more than a batch or two, however large the result.
     */
    @Override
    public void queryStream(QueryRequest request, StreamObserver<RowBatch> observer) {
        ServerCallStreamObserver<RowBatch> out = (ServerCallStreamObserver<RowBatch>) observer;
        RowCursor cursor;
        try {
            cursor = sql.open(request);
        } catch (RuntimeException e) {
            out.onError(status(e).asRuntimeException());
            return;
        }
        out.setOnCancelHandler(cursor::abandon);
        out.setOnReadyHandler(() -> pump(cursor, out));
    }

    private static void pump(RowCursor cursor, ServerCallStreamObserver<RowBatch> out) {
        try {
            while (!cursor.isClosed() && out.isReady()) {
                out.onNext(cursor.next());
                if (cursor.exhausted()) {
                    cursor.finish();
                    out.onCompleted();
                }
            }
        } catch (SqlFailure e) { // the database or a limit ended the stream: tell the reader why
            cursor.abandon();
            out.onError(e.toStatus().asRuntimeException());
        } catch (RuntimeException e) { // anything else, a call already gone included: gRPC ends the call
            cursor.abandon();
            throw e;
        }
    }

    private static <T> void answer(StreamObserver<T> observer, Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (RuntimeException e) {
            observer.onError(status(e).asRuntimeException());
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }

    private static Status status(RuntimeException e) {
        return e instanceof SqlFailure failure ? failure.toStatus()
                : Status.INTERNAL.withDescription("data.sql failed: " + e).withCause(e);
    }
}
