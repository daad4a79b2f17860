package io.capmesh.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

/**
 * The score-and-sign sample's work ({@code io.capmesh.sample.ScoreAndSign#compose}) done in this process, with
 * the libraries the three runtimes use called directly: query the flowers from an H2 file database, classify
 * them with ONNX Runtime and the ml runtime's model (one intra-op thread, as the ml runtime runs it), and sign the
 * verdicts, one {@code id,site,class,confidence} line each, with Ed25519 from BouncyCastle. It is the floor the
 * composition across runtimes is compared with.
 */
final class Composite implements AutoCloseable {

    static final String MODEL = "tiny-classifier";
    /** The sample's flowers (its {@code SampleData}): id, site, sepal length and width, petal length and width. */
    private static final Object[][] FLOWERS = {
        {1L, "north bed", 5.1, 3.5, 1.4, 0.2},
        {2L, "north bed", 4.9, 3.0, 1.4, 0.2},
        {3L, "greenhouse", 7.0, 3.2, 4.7, 1.4},
        {4L, "greenhouse", 6.4, 3.2, 4.5, 1.5},
        {5L, "meadow", 6.3, 3.3, 6.0, 2.5},
        {6L, "meadow", 7.7, 3.8, 6.7, 2.2},
    };
    private static final String SELECT = "SELECT id, site, sepal_length, sepal_width, petal_length, petal_width "
            + "FROM flowers ORDER BY id";

    private final Connection connection;
    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(new SecureRandom());
    private PreparedStatement select;

    /** @param database where the H2 file database goes (the data runtime keeps its own in a file too) */
    Composite(Path database) throws Exception {
        connection = DriverManager.getConnection("jdbc:h2:file:" + database.toAbsolutePath());
        byte[] model;
        try (InputStream in = Composite.class.getResourceAsStream("/models/" + MODEL + ".onnx")) {
            if (in == null) {
                throw new IllegalStateException("models/" + MODEL + ".onnx is not on the class path");
            }
            model = in.readAllBytes();
        }
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        session = environment.createSession(model, options);
    }

    /** The flowers table with the sample's rows, as {@code ScoreAndSign#prepare} makes it. */
    void prepare() throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS flowers (id BIGINT PRIMARY KEY, site VARCHAR(64), "
                    + "sepal_length REAL, sepal_width REAL, petal_length REAL, petal_width REAL)");
            statement.execute("DELETE FROM flowers");
        }
        try (PreparedStatement insert = connection.prepareStatement("INSERT INTO flowers VALUES (?, ?, ?, ?, ?, ?)")) {
            for (Object[] row : FLOWERS) {
                insert.setLong(1, (Long) row[0]);
                insert.setString(2, (String) row[1]);
                for (int i = 2; i < 6; i++) {
                    insert.setDouble(i + 1, (Double) row[i]);
                }
                insert.executeUpdate();
            }
        }
        select = connection.prepareStatement(SELECT);
    }

    /** Query, infer, sign; answers the signature. */
    byte[] run() throws SQLException, OrtException {
        List<Long> ids = new ArrayList<>();
        List<String> sites = new ArrayList<>();
        FloatBuffer features = FloatBuffer.allocate(FLOWERS.length * 4);
        try (ResultSet rows = select.executeQuery()) {
            while (rows.next()) {
                ids.add(rows.getLong(1));
                sites.add(rows.getString(2));
                for (int column = 3; column <= 6; column++) {
                    features.put((float) rows.getDouble(column));
                }
            }
        }
        features.flip();
        StringBuilder lines = new StringBuilder();
        try (OnnxTensor input = OnnxTensor.createTensor(environment, features, new long[] {ids.size(), 4});
             OrtSession.Result result = session.run(Map.of("features", input))) {
            long[] labels = (long[]) result.get("label").orElseThrow().getValue();
            float[][] probabilities = (float[][]) result.get("probabilities").orElseThrow().getValue();
            for (int i = 0; i < ids.size(); i++) {
                int label = (int) labels[i];
                lines.append(ids.get(i)).append(',').append(sites.get(i)).append(',').append(label).append(',')
                        .append(String.format(Locale.ROOT, "%.4f", probabilities[i][label])).append('\n');
            }
        }
        byte[] message = lines.toString().getBytes(UTF_8);
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key);
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    @Override
    public void close() throws Exception {
        session.close();
        connection.close();
    }
}
