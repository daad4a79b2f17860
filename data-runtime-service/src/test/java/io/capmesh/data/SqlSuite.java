package io.capmesh.data;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import io.capmesh.extensions.datasql.v1.BatchRequest;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.Params;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.RowBatch;
import io.capmesh.extensions.datasql.v1.SqlGrpc;
import io.capmesh.extensions.datasql.v1.Statement;
import io.capmesh.extensions.datasql.v1.TransactionRequest;
import io.capmesh.extensions.datasql.v1.TransactionResult;
import io.capmesh.extensions.datasql.v1.Value;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.capmesh.testsupport.BackgroundLoad;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * What the data tier must do whatever the database, over gRPC against the running tier: data.sql itself, and what
 * the tier adds around it (pools a swap leaves warm, their meters and health). A subclass points the datasources
 * at its database: {@code main} (read-write), {@code reports} (the same database, read-only) and {@code broken}
 * (one the runtime cannot connect to), and says how to write the few statements that differ. The limits are set
 * low here so that going over them is cheap.
 */
@SpringBootTest(properties = {
        "spring.grpc.server.address=127.0.0.1",
        "spring.grpc.server.port=0",
        "capmesh.runtime.extensions.data-sql.max-rows=1000",
        "capmesh.runtime.extensions.data-sql.max-result-bytes=1000000",
        "capmesh.runtime.extensions.data-sql.max-statement-timeout-millis=2000",
        "capmesh.data.datasources.broken.connection-timeout=500ms",
        // the old version's verdict waits for its collection: on a busy machine under a swap's load that can take
        // longer than the production window (unload times are the benchmarks' to measure)
        "capmesh.runtime.reclaim-window=10s"})
@Import(SqlSuite.Port.class)
abstract class SqlSuite {

    /** Passwords in the test configuration contain this; no answer may. */
    static final String SECRET = "Secret";

    private static final AtomicInteger TABLES = new AtomicInteger();

    /** The gRPC port the server started on (port 0 picks a free one). */
    static class Port {
        volatile int value;

        @EventListener
        void started(GrpcServerStartedEvent event) {
            value = event.getPort();
        }
    }

    @Autowired
    Port port;

    @Autowired
    MeterRegistry meters;

    @Autowired
    HealthIndicator datasourcesHealthIndicator;

    /** One data dir per suite run (under target/), so that datasources can name the same H2 file through it. */
    @DynamicPropertySource
    static void dataDir(DynamicPropertyRegistry registry) throws java.io.IOException {
        Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target", "sql-suite")), "run-")
                .toAbsolutePath();
        registry.add("capmesh.runtime.data-dir", dir::toString);
    }

    ManagedChannel channel;
    SqlGrpc.SqlBlockingStub sql;

    /** A query that runs far longer than any timeout in this suite. */
    abstract String slowQuery();

    /** A query answering {@code rows} rows: an integer {@code 1..rows} and a string of {@code width} characters. */
    abstract String series(int rows, int width);

    /** The column type for binary data. */
    abstract String binaryType();

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port.value).usePlaintext()
                .maxInboundMessageSize(8 << 20).build();
        sql = SqlGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void queriesBindEveryParameterAndAnswerTypedValues() {
        String table = table("id BIGINT PRIMARY KEY, flag BOOLEAN, small INTEGER, ratio DOUBLE PRECISION,"
                + " price NUMERIC(10, 2), name VARCHAR(100), data " + binaryType() + ", at TIMESTAMP WITH TIME ZONE,"
                + " born DATE, note VARCHAR(100)");
        String hostile = "Robert'); DROP TABLE " + table + "; --";
        Instant at = Instant.parse("2024-05-06T07:08:09.123456Z");
        execute("INSERT INTO " + table + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS DATE), ?)",
                int64(1), bool(true), int64(42), Value.newBuilder().setDoubleValue(0.25).build(),
                Value.newBuilder().setDecimalValue("12.50").build(), string(hostile),
                Value.newBuilder().setBytesValue(ByteString.copyFrom(new byte[] {0, 1, 2, (byte) 0xff})).build(),
                Value.newBuilder().setTimestampValue(Timestamp.newBuilder().setSeconds(at.getEpochSecond())
                        .setNanos(at.getNano())).build(),
                string("2024-05-06"), Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build());

        QueryResult result = query("SELECT * FROM " + table + " WHERE id = ? AND name = ?", int64(1), string(hostile));

        assertThat(result.getColumnsList()).extracting(c -> c.getName().toLowerCase())
                .containsExactly("id", "flag", "small", "ratio", "price", "name", "data", "at", "born", "note");
        List<Value> row = result.getRows(0).getValuesList();
        assertThat(row.get(0).getInt64Value()).isEqualTo(1);
        assertThat(row.get(1).getBoolValue()).isTrue();
        assertThat(row.get(2).getInt64Value()).isEqualTo(42);
        assertThat(row.get(3).getDoubleValue()).isEqualTo(0.25);
        assertThat(row.get(4).getDecimalValue()).isEqualTo("12.50");
        assertThat(row.get(5).getStringValue()).isEqualTo(hostile);
        assertThat(row.get(6).getBytesValue().toByteArray()).containsExactly(0, 1, 2, 0xff);
        assertThat(Instant.ofEpochSecond(row.get(7).getTimestampValue().getSeconds(),
                row.get(7).getTimestampValue().getNanos())).isEqualTo(at);
        assertThat(row.get(8).getStringValue()).isEqualTo("2024-05-06");
        assertThat(row.get(9).getKindCase()).isEqualTo(Value.KindCase.NULL_VALUE);
        assertThat(count(table)).isEqualTo(1); // the hostile name was a value, never SQL
    }

    @Test
    void executeAnswersTheRowsItChanged() {
        String table = table("id BIGINT PRIMARY KEY, name VARCHAR(20)");
        for (int id = 1; id <= 3; id++) {
            assertThat(execute("INSERT INTO " + table + " VALUES (?, ?)", int64(id), string("n" + id))).isEqualTo(1);
        }
        assertThat(execute("UPDATE " + table + " SET name = ? WHERE id > ?", string("later"), int64(1))).isEqualTo(2);
    }

    @Test
    void batchRunsEveryParameterSetInOneTransaction() {
        String table = table("id BIGINT PRIMARY KEY, name VARCHAR(20)");
        String insert = "INSERT INTO " + table + " VALUES (?, ?)";

        assertThat(sql.batch(batch(insert, List.of(int64(1), string("a")), List.of(int64(2), string("b")),
                List.of(int64(3), string("c")))).getUpdatedList()).containsExactly(1L, 1L, 1L);

        Status duplicate = statusOf(() -> sql.batch(batch(insert, List.of(int64(4), string("d")),
                List.of(int64(1), string("again")))));
        assertThat(duplicate.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(duplicate.getDescription()).contains("SQL state 23505");
        assertThat(count(table)).isEqualTo(3); // row 4 was rolled back with the duplicate
    }

    @Test
    void transactionCommitsEveryStatementOrNone() {
        String table = table("id BIGINT PRIMARY KEY, name VARCHAR(20)");
        TransactionResult committed = sql.transaction(TransactionRequest.newBuilder()
                .addStatements(statement("INSERT INTO " + table + " VALUES (?, ?)", int64(1), string("a")))
                .addStatements(statement("UPDATE " + table + " SET name = ? WHERE id = ?", string("b"), int64(1)))
                .addStatements(statement("SELECT name FROM " + table + " WHERE id = ?", int64(1)))
                .build());
        assertThat(committed.getResults(0).getUpdated()).isEqualTo(1);
        assertThat(committed.getResults(1).getUpdated()).isEqualTo(1);
        assertThat(committed.getResults(2).getRows().getRows(0).getValues(0).getStringValue()).isEqualTo("b");

        Status failed = statusOf(() -> sql.transaction(TransactionRequest.newBuilder()
                .addStatements(statement("INSERT INTO " + table + " VALUES (?, ?)", int64(2), string("c")))
                .addStatements(statement("UPDATE " + table + " SET name = ? WHERE id = ?", string("d"), int64(1)))
                .addStatements(statement("INSERT INTO " + table + " VALUES (?, ?)", int64(1), string("dup")))
                .build()));
        assertThat(failed.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(failed.getDescription()).startsWith("statement 3 of 3 failed and the transaction was rolled back")
                .contains("SQL state 23505");
        assertThat(query("SELECT id, name FROM " + table).getRowsList()).singleElement()
                .satisfies(row -> assertThat(row.getValues(1).getStringValue()).isEqualTo("b"));
    }

    @Test
    void aStatementRunsNoLongerThanItsTimeoutAndTheCap() {
        long started = System.nanoTime();
        Status asked = statusOf(() -> sql.query(QueryRequest.newBuilder().setSql(slowQuery()).setTimeoutMillis(1000)
                .build()));
        assertThat(asked.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(asked.getDescription()).contains("timeout of 1000 ms");

        Status capped = statusOf(() -> sql.query(QueryRequest.newBuilder().setSql(slowQuery())
                .setTimeoutMillis(3_600_000).build()));
        assertThat(capped.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(capped.getDescription()).contains("timeout of 2000 ms");
        assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).isLessThan(8_000);

        assertThat(query("SELECT 1").getRowsCount()).isEqualTo(1); // and the pool goes on serving
    }

    @Test
    void rowAndByteLimitsAreAnsweredWithTheLimitNamed() {
        assertThat(query(series(1000, 1)).getRowsCount()).isEqualTo(1000);

        Status rows = statusOf(() -> query(series(1001, 1)));
        assertThat(rows.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(rows.getDescription()).contains("more than 1000 rows, the max-rows limit");

        Status bytes = statusOf(() -> query(series(10, 200_000)));
        assertThat(bytes.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(bytes.getDescription()).contains("larger than 1000000 bytes, the max-result-bytes limit");
    }

    @Test
    void aReadOnlyDatasourceAnswersQueriesAndRefusesWrites() {
        String table = table("id BIGINT PRIMARY KEY");
        execute("INSERT INTO " + table + " VALUES (?)", int64(1));

        assertThat(sql.query(QueryRequest.newBuilder().setDatasource("reports").setSql("SELECT id FROM " + table)
                .build()).getRowsCount()).isEqualTo(1);

        String insert = "INSERT INTO " + table + " VALUES (?)";
        List<Supplier<?>> writes = List.of(
                () -> sql.execute(ExecuteRequest.newBuilder().setDatasource("reports").setSql(insert)
                        .addParams(int64(2)).build()),
                () -> sql.batch(batch(insert, List.of(int64(2))).toBuilder().setDatasource("reports").build()),
                () -> sql.transaction(TransactionRequest.newBuilder().setDatasource("reports")
                        .addStatements(statement(insert, int64(2))).build()));
        for (Supplier<?> write : writes) {
            Status refused = statusOf(write::get);
            assertThat(refused.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
            assertThat(refused.getDescription()).contains("datasource 'reports' is read-only");
        }
        assertThat(count(table)).isEqualTo(1);
    }

    @Test
    void unknownAndUnreachableDatasourcesAreToldApart() {
        Status unknown = statusOf(() -> sql.query(QueryRequest.newBuilder().setDatasource("nope").setSql("SELECT 1")
                .build()));
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(unknown.getDescription()).contains("no datasource 'nope'");

        Status unreachable = statusOf(() -> sql.query(QueryRequest.newBuilder().setDatasource("broken")
                .setSql("SELECT 1").build()));
        assertThat(unreachable.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(unreachable.getDescription()).contains("datasource 'broken' has no connection")
                .doesNotContain(SECRET);
    }

    @Test
    void sqlErrorsCarryTheDatabaseMessageAndSqlState() {
        Status missing = statusOf(() -> query("SELECT * FROM no_such_table WHERE id = ?", int64(1)));
        assertThat(missing.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(missing.getDescription()).containsIgnoringCase("no_such_table").contains("SQL state 42")
                .doesNotContain(SECRET);

        Status typo = statusOf(() -> execute("INSER INTO nothing VALUES (1)"));
        assertThat(typo.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(typo.getDescription()).contains("SQL state 42");
    }

    /**
     * 100,000 rows of about 2 KB: some 200 MB, more than this test JVM's whole heap and three times its direct
     * memory (see the pom), to a reader that stalls after the first batch. Only a server that reads the next
     * batch when the reader can take it gets through; one that queued the rest would run out of memory.
     */
    @Test
    void aLargeResultStreamsInBatchesAtTheReadersPace() throws Exception {
        int rows = 100_000;
        int fetchSize = 500;
        AtomicLong received = new AtomicLong();
        AtomicLong idSum = new AtomicLong();
        AtomicInteger batches = new AtomicInteger();
        AtomicInteger largestBatch = new AtomicInteger();
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        List<String> columns = new java.util.ArrayList<>();

        SqlGrpc.newStub(channel).withDeadlineAfter(120, TimeUnit.SECONDS).queryStream(
                QueryRequest.newBuilder().setSql(series(rows, 2000)).setFetchSize(fetchSize).build(),
                new ClientResponseObserver<QueryRequest, RowBatch>() {
                    private ClientCallStreamObserver<QueryRequest> call;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<QueryRequest> call) {
                        this.call = call;
                        call.disableAutoRequestWithInitial(1); // one batch at a time, like a slow reader
                    }

                    @Override
                    public void onNext(RowBatch batch) {
                        if (batches.incrementAndGet() == 1) {
                            batch.getColumnsList().forEach(c -> columns.add(c.getName().toLowerCase()));
                        }
                        largestBatch.accumulateAndGet(batch.getRowsCount(), Math::max);
                        batch.getRowsList().forEach(r -> idSum.addAndGet(r.getValues(0).getInt64Value()));
                        received.addAndGet(batch.getRowsCount());
                        if (batches.get() == 1) {
                            sleep(2_000); // a reader that stalls: the server must wait, not queue the rest
                        }
                        call.request(1);
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        done.complete(columns);
                    }
                });

        assertThat(done.get(120, TimeUnit.SECONDS)).containsExactly("n", "pad");
        assertThat(received.get()).isEqualTo(rows);
        assertThat(idSum.get()).isEqualTo((long) rows * (rows + 1) / 2);
        assertThat(largestBatch.get()).isLessThanOrEqualTo(fetchSize);
        assertThat(batches.get()).isGreaterThanOrEqualTo(rows / fetchSize);
    }

    @Test
    void invokeServesTheUnaryMethodsWithTheSameMessages() throws Exception {
        var runtime = RuntimeServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
        QueryResult result = QueryResult.parseFrom(runtime.invoke(InvokeRequest.newBuilder()
                .setCapability("data.sql").setMethod("query")
                .setPayload(QueryRequest.newBuilder().setSql(series(3, 1)).build().toByteString()).build())
                .getPayload());
        assertThat(result.getRowsCount()).isEqualTo(3);

        Status unknown = statusOf(() -> runtime.invoke(InvokeRequest.newBuilder().setCapability("data.sql")
                .setMethod("query").setPayload(QueryRequest.newBuilder().setDatasource("nope").setSql("SELECT 1")
                        .build().toByteString()).build()));
        assertThat(unknown.getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    /**
     * The pools are the host's: a new version of data.sql finds the same connections, and the old one, which used
     * them (statement timers, pool threads and all), leaves nothing behind that keeps its classloader alive.
     */
    @Test
    void aSwapUnderLoadFailsNoQueryKeepsThePoolsWarmAndTheOldVersionIsCollected() throws Exception {
        String table = table("id BIGINT PRIMARY KEY");
        execute("INSERT INTO " + table + " VALUES (?)", int64(1));
        long created = meters.get("hikaricp.connections.creation").tag("pool", "main").timer().count();

        byte[] jar;
        try (InputStream in = getClass().getClassLoader()
                .getResourceAsStream("capmesh/extensions/capmesh-ext-data-sql.jar")) {
            jar = in.readAllBytes();
        }
        SwapResponse swapped;
        BackgroundLoad load = BackgroundLoad.start(4, () -> assertThat(count(table)).isEqualTo(1));
        try (load) {
            Thread.sleep(200);
            swapped = PackageUpload.swap(RuntimeServiceGrpc.newStub(channel), DeployHeader.getDefaultInstance(),
                    Repackager.withVersion(jar, "1.0.1"), Duration.ofSeconds(60));
            Thread.sleep(200);
        }
        assertThat(load.failures()).as("queries failed during the swap").isEmpty();
        assertThat(load.calls()).isPositive();

        assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.0.1");
        assertThat(swapped.getPrevious().getReclamation().getState())
                .as("%s", swapped.getPrevious().getReclamation()).isEqualTo(Reclamation.State.COLLECTED);
        assertThat(count(table)).isEqualTo(1);
        assertThat(meters.get("hikaricp.connections.creation").tag("pool", "main").timer().count())
                .as("connections opened across the swap").isEqualTo(created);
        assertThat(meters.get("hikaricp.connections.max").tag("pool", "reports").gauge().value()).isEqualTo(10.0);
    }

    /** {@code /actuator/health}'s {@code datasources} component, one line per datasource. */
    @Test
    void healthSaysWhichDatasourceIsDown() {
        var health = datasourcesHealthIndicator.health();
        assertThat(health.getStatus()).isEqualTo(org.springframework.boot.health.contributor.Status.DOWN);
        assertThat(health.getDetails()).containsEntry("main", "UP").containsEntry("reports", "UP")
                .hasEntrySatisfying("broken", state -> assertThat(state.toString()).startsWith("DOWN"));
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    /** Creates a table of its own for one test and answers its name. */
    String table(String columns) {
        String name = "suite_" + TABLES.incrementAndGet() + "_" + System.nanoTime() % 100_000;
        execute("CREATE TABLE " + name + " (" + columns + ")");
        return name;
    }

    QueryResult query(String text, Value... params) {
        return sql.query(QueryRequest.newBuilder().setSql(text).addAllParams(List.of(params)).build());
    }

    long execute(String text, Value... params) {
        return sql.execute(ExecuteRequest.newBuilder().setSql(text).addAllParams(List.of(params)).build()).getUpdated();
    }

    long count(String table) {
        return query("SELECT COUNT(*) FROM " + table).getRows(0).getValues(0).getInt64Value();
    }

    static BatchRequest batch(String text, List<?>... paramSets) {
        BatchRequest.Builder batch = BatchRequest.newBuilder().setSql(text);
        for (List<?> params : paramSets) {
            batch.addParamSets(Params.newBuilder().addAllValues(params.stream().map(Value.class::cast).toList()));
        }
        return batch.build();
    }

    static Statement statement(String text, Value... params) {
        return Statement.newBuilder().setSql(text).addAllParams(List.of(params)).build();
    }

    static Value int64(long value) {
        return Value.newBuilder().setInt64Value(value).build();
    }

    static Value string(String value) {
        return Value.newBuilder().setStringValue(value).build();
    }

    static Value bool(boolean value) {
        return Value.newBuilder().setBoolValue(value).build();
    }

    static Status statusOf(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e.getStatus();
        }
        throw new AssertionError("the call succeeded");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
