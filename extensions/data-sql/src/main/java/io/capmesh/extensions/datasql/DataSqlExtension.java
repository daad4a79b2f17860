package io.capmesh.extensions.datasql;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.datasql.v1.BatchRequest;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.Row;
import io.capmesh.extensions.datasql.v1.TransactionRequest;
import io.grpc.ServerServiceDefinition;
import java.util.List;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * {@code data.sql}: SQL with bound parameters over the runtime's named datasources.
 *
 * <p>The pools are the host's ({@code hostService(DataSource.class, name)}), so they stay warm when this
 * extension is swapped; this jar bundles no driver and keeps nothing open between calls. The typed service
 * {@code capmesh.data.sql.v1.Sql} offers every method plus {@code QueryStream}; the generic {@code Invoke} offers
 * the unary ones ({@code query}, {@code execute}, {@code batch}, {@code transaction}), each taking the typed
 * request message as its payload and answering the typed result, both in protobuf binary.
 */
public final class DataSqlExtension implements Extension {

    private volatile SqlRunner sql;
    private volatile List<ServerServiceDefinition> services = List.of();

    @Override
    public void start(ExtensionContext context) {
        SqlLimits limits = SqlLimits.from(context.settings());
        sql = new SqlRunner(name -> context.hostService(DataSource.class, name), limits);
        services = List.of(new TypedSql(sql).bindService());
        // class initialization of what every answer uses happens here, before traffic, not in the first call
        QueryResult.newBuilder().addRows(Row.newBuilder().addValues(Values.NULL)).build().toByteArray();
    }

    @Override
    public List<ServerServiceDefinition> services() {
        return services;
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        try {
            return switch (invocation.method()) {
                case "query" -> call(invocation, QueryRequest.parser(), sql::query);
                case "execute" -> call(invocation, ExecuteRequest.parser(), sql::execute);
                case "batch" -> call(invocation, BatchRequest.parser(), sql::batch);
                case "transaction" -> call(invocation, TransactionRequest.parser(), sql::transaction);
                default -> throw CapabilityException.notFound("data.sql has no method " + invocation.method()
                        + "; it has query, execute, batch and transaction (QueryStream is on the typed service)");
            };
        } catch (SqlFailure e) {
            throw e.toCapabilityException();
        }
    }

    private static <Q> byte[] call(Invocation invocation, Parser<Q> parser, Function<Q, ? extends MessageLite> method) {
        Q request;
        try {
            request = parser.parseFrom(invocation.payload());
        } catch (InvalidProtocolBufferException e) {
            throw CapabilityException.invalidArgument("data.sql/" + invocation.method() + " takes a serialized "
                    + "capmesh.data.sql.v1 request message as its payload: " + e.getMessage());
        }
        return method.apply(request).toByteArray();
    }
}
