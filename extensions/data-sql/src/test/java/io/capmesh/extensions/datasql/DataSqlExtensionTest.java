package io.capmesh.extensions.datasql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.Value;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The generic Invoke path and the settings, on an in-memory H2 (the typed service, limits and PostgreSQL are
 * covered by the data runtime's SQL suite).
 */
class DataSqlExtensionTest {

    private final DataSqlExtension extension = new DataSqlExtension();

    @BeforeEach
    void start() {
        JdbcDataSource h2 = new JdbcDataSource();
        h2.setURL("jdbc:h2:mem:" + getClass().getSimpleName() + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
        extension.start(context(Map.of("max-rows", "2"), Map.of("main", h2)));
    }

    @Test
    void invokeTakesAndAnswersTheTypedMessages() throws Exception {
        invoke("execute", ExecuteRequest.newBuilder().setSql("CREATE TABLE t (id INT, name VARCHAR)").build());
        invoke("execute", ExecuteRequest.newBuilder().setSql("INSERT INTO t VALUES (?, ?)")
                .addParams(Value.newBuilder().setInt64Value(1)).addParams(Value.newBuilder().setStringValue("a"))
                .build());

        QueryResult result = QueryResult.parseFrom(invoke("query",
                QueryRequest.newBuilder().setSql("SELECT id, name FROM t WHERE id = ?")
                        .addParams(Value.newBuilder().setInt64Value(1)).build()));

        assertThat(result.getColumnsList()).extracting(c -> c.getName()).containsExactly("ID", "NAME");
        assertThat(result.getRows(0).getValues(0).getInt64Value()).isEqualTo(1);
        assertThat(result.getRows(0).getValues(1).getStringValue()).isEqualTo("a");
    }

    @Test
    void failuresKeepTheirReasonOnTheGenericPath() {
        assertThatThrownBy(() -> invoke("query", QueryRequest.newBuilder().setDatasource("nope").setSql("SELECT 1")
                .build()))
                .isInstanceOf(CapabilityException.class).extracting(e -> ((CapabilityException) e).reason())
                .isEqualTo(CapabilityException.Reason.NOT_FOUND);
        assertThatThrownBy(() -> invoke("query", QueryRequest.newBuilder().setSql("SELECT X FROM SYSTEM_RANGE(1, 3)")
                .build()))
                .hasMessageContaining("max-rows").extracting(e -> ((CapabilityException) e).reason())
                .isEqualTo(CapabilityException.Reason.RESOURCE_EXHAUSTED);
        assertThatThrownBy(() -> invoke("query", QueryRequest.newBuilder().setSql("SELEC 1").build()))
                .hasMessageContaining("SQL state 42001").extracting(e -> ((CapabilityException) e).reason())
                .isEqualTo(CapabilityException.Reason.INVALID_ARGUMENT);
        assertThatThrownBy(() -> extension.invoke(Invocation.of("data.sql", "query", new byte[] {(byte) 0xff})))
                .hasMessageContaining("serialized capmesh.data.sql.v1 request");
        assertThatThrownBy(() -> extension.invoke(Invocation.of("data.sql", "drop", new byte[0])))
                .hasMessageContaining("no method drop");
    }

    @Test
    void settingsAreCheckedWhenTheExtensionStarts() {
        assertThat(SqlLimits.from(Map.of()).maxRows()).isEqualTo(SqlLimits.DEFAULTS.maxRows());
        assertThat(SqlLimits.from(Map.of("max-statement-timeout-millis", "500")).timeoutMillis(60_000)).isEqualTo(500);
        assertThatThrownBy(() -> SqlLimits.from(Map.of("max-row", "5"))).hasMessageContaining("no settings [max-row]");
        assertThatThrownBy(() -> SqlLimits.from(Map.of("max-rows", "lots"))).hasMessageContaining("max-rows");
        assertThatThrownBy(() -> SqlLimits.from(Map.of("fetch-size", "0"))).hasMessageContaining("positive");
    }

    private byte[] invoke(String method, com.google.protobuf.MessageLite request) {
        return extension.invoke(Invocation.of("data.sql", method, request.toByteArray()));
    }

    private static ExtensionContext context(Map<String, String> settings, Map<String, DataSource> datasources) {
        return new ExtensionContext() {
            @Override
            public String id() {
                return "data-sql";
            }

            @Override
            public String version() {
                return "1.0.0";
            }

            @Override
            public Map<String, String> settings() {
                return settings;
            }

            @Override
            public <T> Optional<T> hostService(Class<T> type, String name) {
                return type == DataSource.class ? Optional.ofNullable(datasources.get(name)).map(type::cast)
                        : Optional.empty();
            }
        };
    }
}
