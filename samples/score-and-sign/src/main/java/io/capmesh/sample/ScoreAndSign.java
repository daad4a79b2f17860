package io.capmesh.sample;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.crypto.v1.GenerateKeyRequest;
import io.capmesh.extensions.crypto.v1.KeyInfo;
import io.capmesh.extensions.crypto.v1.KeyType;
import io.capmesh.extensions.crypto.v1.KeysGrpc;
import io.capmesh.extensions.crypto.v1.ListKeysRequest;
import io.capmesh.extensions.crypto.v1.SignRequest;
import io.capmesh.extensions.crypto.v1.SignerGrpc;
import io.capmesh.extensions.crypto.v1.VerifySignatureRequest;
import io.capmesh.extensions.datasql.v1.ExecuteRequest;
import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.extensions.datasql.v1.QueryResult;
import io.capmesh.extensions.datasql.v1.Row;
import io.capmesh.extensions.datasql.v1.SqlGrpc;
import io.capmesh.extensions.datasql.v1.Statement;
import io.capmesh.extensions.datasql.v1.TransactionRequest;
import io.capmesh.extensions.datasql.v1.Value;
import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.OnnxGrpc;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import io.capmesh.stub.Composition;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Classifies flowers and signs the verdicts, across three tiers: {@code data.sql} reads their measurements,
 * {@code ml.onnx} puts each in one of three classes with the ml runtime's model, and {@code crypto.sign} signs what was scored with a key
 * that never leaves the crypto runtime. The three calls are one composition under one deadline, in one trace.
 *
 * <pre>{@code
 * ScoreAndSign.Result result = ScoreAndSign.once(client, tracer, Duration.ofSeconds(5));
 * }</pre>
 *
 * <p>Or, to compose many times on one lease:
 * <pre>{@code
 * try (Capabilities caps = client.acquire(ScoreAndSign.capabilities())) {
 *     ScoreAndSign sample = new ScoreAndSign(caps, tracer, Duration.ofSeconds(2));
 *     sample.prepare();
 *     ScoreAndSign.Result result = sample.compose();
 * }
 * }</pre>
 */
public final class ScoreAndSign {

    /** The root span of {@link #once}: acquire, prepare, compose and release. */
    public static final String SPAN = "score-and-sign";
    /** The span of each {@link #compose}. */
    public static final String COMPOSE_SPAN = "compose data.sql -> ml.onnx -> crypto.sign";
    /** The services a trace of {@link #once} spans: this function, the broker and three runtimes. */
    public static final Set<String> TRACED_SERVICES = Set.of(SPAN, "broker", "data-runtime", "ml-runtime",
            "crypto-runtime");
    static final String KEY_LABEL = "score-and-sign";
    private static final String MODEL = "tiny-classifier";
    private static final String DATASOURCE = "main";
    private static final QueryRequest QUERY = QueryRequest.newBuilder().setDatasource(DATASOURCE)
            .setSql("SELECT id, site, sepal_length, sepal_width, petal_length, petal_width FROM flowers ORDER BY id")
            .build();

    private final CapabilityHandle data;
    private final CapabilityHandle ml;
    private final CapabilityHandle sign;
    private final CapabilityHandle keys;
    private final Tracer tracer;
    private final Duration deadline;
    private String keyId;

    /** One classified flower: the class the model chose (0, 1 or 2) and how sure it was. */
    public record Score(long id, String site, long label, float confidence) {
    }

    /**
     * What a run produced.
     *
     * @param signed    the scores as signed: one line {@code id,site,class,confidence} per flower
     * @param signature by the crypto runtime's key {@code keyId} (Ed25519)
     */
    public record Result(String traceId, List<Score> scores, String keyId, byte[] signed, byte[] signature,
                         Duration took) {
    }

    /** What to acquire for a run. */
    public static Acquire capabilities() {
        return Acquire.require("data.sql", "^1").andRequire("ml.onnx", "^1").andRequire("crypto.sign", "^1")
                .andRequire("crypto.keys", "^1").timeout(Duration.ofSeconds(20));
    }

    public ScoreAndSign(Capabilities capabilities, Tracer tracer, Duration deadline) {
        this.data = capabilities.get("data.sql");
        this.ml = capabilities.get("ml.onnx");
        this.sign = capabilities.get("crypto.sign");
        this.keys = capabilities.get("crypto.keys");
        this.tracer = tracer;
        this.deadline = deadline;
    }

    /** Makes sure the flowers table holds the sample rows and the signing key exists; safe to repeat. */
    public void prepare() {
        data.call("execute", channel -> SqlGrpc.newBlockingStub(channel).execute(ExecuteRequest.newBuilder()
                .setDatasource(DATASOURCE)
                .setSql("CREATE TABLE IF NOT EXISTS flowers (id BIGINT PRIMARY KEY, site VARCHAR(64), "
                        + "sepal_length REAL, sepal_width REAL, petal_length REAL, petal_width REAL)")
                .build()));
        TransactionRequest.Builder seed = TransactionRequest.newBuilder().setDatasource(DATASOURCE)
                .addStatements(Statement.newBuilder().setSql("DELETE FROM flowers"));
        for (Object[] row : SampleData.FLOWERS) {
            Statement.Builder insert = Statement.newBuilder().setSql("INSERT INTO flowers VALUES (?, ?, ?, ?, ?, ?)")
                    .addParams(Value.newBuilder().setInt64Value((Long) row[0]))
                    .addParams(Value.newBuilder().setStringValue((String) row[1]));
            for (int i = 2; i < 6; i++) {
                insert.addParams(Value.newBuilder().setDoubleValue((Double) row[i]));
            }
            seed.addStatements(insert);
        }
        data.call("transaction", channel -> SqlGrpc.newBlockingStub(channel).transaction(seed.build()));
        keyId = keys.call("list", channel -> KeysGrpc.newBlockingStub(channel).list(ListKeysRequest.getDefaultInstance()))
                .getKeysList().stream()
                .filter(k -> k.getLabel().equals(KEY_LABEL) && k.getType() == KeyType.ED25519 && !k.getPublicOnly())
                .map(KeyInfo::getKeyId).findFirst()
                .orElseGet(() -> keys.call("generate", channel -> KeysGrpc.newBlockingStub(channel).generate(
                        GenerateKeyRequest.newBuilder().setType(KeyType.ED25519).setLabel(KEY_LABEL).build()))
                        .getKeyId());
    }

    /**
     * The whole function in one trace: acquires the capabilities, prepares, composes once and releases.
     */
    public static Result once(CapabilityClient client, Tracer tracer, Duration deadline) {
        Span span = tracer.spanBuilder(SPAN).startSpan();
        try (Scope ignored = span.makeCurrent(); Capabilities capabilities = client.acquire(capabilities())) {
            ScoreAndSign sample = new ScoreAndSign(capabilities, tracer, deadline);
            sample.prepare();
            return sample.compose();
        } catch (RuntimeException e) {
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    /** Reads, scores and signs: one composition under one deadline, in its own span. */
    public Result compose() {
        if (keyId == null) {
            throw new IllegalStateException("call prepare() first: it makes the table and the signing key");
        }
        Span span = tracer.spanBuilder(COMPOSE_SPAN).startSpan();
        long started = System.nanoTime();
        try (Scope ignored = span.makeCurrent()) {
            return Composition.sequence(deadline, () -> {
                QueryResult rows = query();
                List<Score> scores = scores(rows, infer(rows));
                byte[] message = lines(scores);
                byte[] signature = sign(message);
                span.setAttribute("capmesh.scored", scores.size());
                return new Result(span.getSpanContext().getTraceId(), scores, keyId, message, signature,
                        Duration.ofNanos(System.nanoTime() - started));
            });
        } catch (RuntimeException e) {
            span.setStatus(StatusCode.ERROR, String.valueOf(e.getMessage()));
            throw e;
        } finally {
            span.end();
        }
    }

    /** The first step alone: the flowers' measurements from {@code data.sql}. */
    public QueryResult query() {
        return data.call("query", channel -> SqlGrpc.newBlockingStub(channel).query(QUERY));
    }

    /** The second step alone: {@code ml.onnx} classifies the rows a {@link #query} answered. */
    public InferResponse infer(QueryResult rows) {
        return ml.call("infer", channel -> OnnxGrpc.newBlockingStub(channel).infer(
                InferRequest.newBuilder().setModel(MODEL).putInputs("features", features(rows)).build()));
    }

    /** The last step alone: {@code crypto.sign} signs {@code message} with the sample's key. */
    public byte[] sign(byte[] message) {
        if (keyId == null) {
            throw new IllegalStateException("call prepare() first: it makes the table and the signing key");
        }
        return sign.call("sign", channel -> SignerGrpc.newBlockingStub(channel).sign(
                SignRequest.newBuilder().setKeyId(keyId).setMessage(ByteString.copyFrom(message)).build()))
                .getSignature().toByteArray();
    }

    /** Asks the crypto runtime whether a result's signature holds (it fails with INVALID_ARGUMENT otherwise). */
    public void verify(Result result) {
        sign.call("verify", channel -> SignerGrpc.newBlockingStub(channel).verify(VerifySignatureRequest.newBuilder()
                .setKeyId(result.keyId()).setMessage(ByteString.copyFrom(result.signed()))
                .setSignature(ByteString.copyFrom(result.signature())).build()));
    }

    /** A result as a person reads it: a table of the scores, then the signature and what it covers. */
    public static String describe(Result result) {
        StringBuilder out = new StringBuilder(String.format(java.util.Locale.ROOT, "%-4s %-12s %-6s %s%n",
                "id", "site", "class", "confidence"));
        for (Score score : result.scores()) {
            out.append(String.format(java.util.Locale.ROOT, "%-4d %-12s %-6d %.4f%n", score.id(), score.site(),
                    score.label(), score.confidence()));
        }
        return out.append(String.format(java.util.Locale.ROOT,
                "signed %d bytes with Ed25519 key %s: %s%ncomposed in %.1f ms, trace %s%n",
                result.signed().length, result.keyId(), java.util.Base64.getEncoder().encodeToString(result.signature()),
                result.took().toNanos() / 1e6, result.traceId())).toString();
    }

    /** The four measurement columns as the model's input: FLOAT [rows, 4]. */
    static Tensor features(QueryResult rows) {
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(DataType.FLOAT).addShape(rows.getRowsCount()).addShape(4);
        for (Row row : rows.getRowsList()) {
            for (int column = 2; column < 6; column++) {
                tensor.addFloatValues((float) number(row.getValues(column)));
            }
        }
        return tensor.build();
    }

    /** The rows and the model's verdicts, paired up. */
    public static List<Score> scores(QueryResult rows, InferResponse inferred) {
        Tensor labels = inferred.getOutputsOrThrow("label");
        Tensor probabilities = inferred.getOutputsOrThrow("probabilities");
        int classes = (int) probabilities.getShape(1);
        List<Score> scores = new ArrayList<>();
        for (int i = 0; i < rows.getRowsCount(); i++) {
            Row row = rows.getRows(i);
            long label = labels.getInt64Values(i);
            scores.add(new Score((long) number(row.getValues(0)), row.getValues(1).getStringValue(), label,
                    probabilities.getFloatValues(i * classes + (int) label)));
        }
        return scores;
    }

    /** What is signed: one line {@code id,site,class,confidence} per score. */
    public static byte[] lines(List<Score> scores) {
        StringBuilder text = new StringBuilder();
        for (Score score : scores) {
            text.append(score.id()).append(',').append(score.site()).append(',').append(score.label()).append(',')
                    .append(String.format(java.util.Locale.ROOT, "%.4f", score.confidence())).append('\n');
        }
        return text.toString().getBytes(UTF_8);
    }

    private static double number(Value value) {
        return switch (value.getKindCase()) {
            case DOUBLE_VALUE -> value.getDoubleValue();
            case INT64_VALUE -> value.getInt64Value();
            case DECIMAL_VALUE -> Double.parseDouble(value.getDecimalValue());
            default -> throw new IllegalStateException("expected a number, got " + value.getKindCase());
        };
    }
}
