package io.capmesh.extensions.mlonnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.MessageLite;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.DescribeRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchResponse;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.ModelInfo;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.extensions.mlonnx.v1.TensorMap;
import io.capmesh.extensions.mlonnx.v1.TensorSpec;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The extension as the runtime calls it, its answers checked against {@link TinyClassifierFunction}, a plain-Java
 * computation of the shipped model's function.
 */
class OnnxExtensionTest {

    private final Random random = new Random(20261123);
    private OnnxExtension extension;

    @BeforeEach
    void start() throws Exception {
        extension = started(Map.of("max-concurrent-runs", "2", "max-wait-millis", "0"));
    }

    @AfterEach
    void close() throws Exception {
        extension.close();
    }

    @Test
    void describesTheModelItShips() throws Exception {
        ModelInfo info = ModelInfo.parseFrom(call("describe", DescribeRequest.getDefaultInstance()));

        assertThat(info.getName()).isEqualTo("tiny-classifier");
        assertThat(info.getVersion()).isEqualTo("1.0.0");
        assertThat(info.getModelsList()).containsExactly("tiny-classifier");
        assertThat(info.getProducer()).isEqualTo("capmesh");
        assertThat(info.getDescription()).contains("fixed-weight classifier");
        assertThat(info.getMaxConcurrentRuns()).isEqualTo(2);
        assertThat(info.getInputsList())
                .containsExactly(spec("features", DataType.FLOAT, List.of(-1L, 4L), "batch", ""));
        assertThat(info.getOutputsList()).containsExactly(
                spec("probabilities", DataType.FLOAT, List.of(-1L, 3L), "batch", ""),
                spec("label", DataType.INT64, List.of(-1L), "batch"));
    }

    @Test
    void oneExampleAtATimeMatchesThePlainJavaComputation() throws Exception {
        for (int i = 0; i < 50; i++) {
            float[][] rows = randomRows(1);
            InferResponse response = InferResponse.parseFrom(call("infer", request(rows)));
            assertThat(response.getModel()).isEqualTo("tiny-classifier");
            TinyClassifierChecks.assertMatches(rows, response.getOutputsMap());
        }
    }

    @Test
    void aBatchMatchesThePlainJavaComputation() throws Exception {
        float[][] rows = randomRows(257);

        InferResponse response = InferResponse.parseFrom(call("infer", request(rows)));

        TinyClassifierChecks.assertMatches(rows, response.getOutputsMap());
    }

    @Test
    void stackedRequestsAreSplitBackInOrder() throws Exception {
        List<float[][]> parts = List.of(randomRows(1), randomRows(3), randomRows(0), randomRows(5));
        InferBatchRequest.Builder batch = InferBatchRequest.newBuilder();
        parts.forEach(rows -> batch.addItems(TensorMap.newBuilder()
                .putTensors("features", TinyClassifierChecks.features(rows))));

        InferBatchResponse response = InferBatchResponse.parseFrom(call("infer-batch", batch.build()));

        assertThat(response.getItemsCount()).isEqualTo(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            TinyClassifierChecks.assertMatches(parts.get(i), response.getItems(i).getTensorsMap());
        }
    }

    @Test
    void answersOnlyTheOutputsAskedFor() throws Exception {
        float[][] rows = randomRows(4);
        InferResponse response = InferResponse.parseFrom(call("infer", request(rows).toBuilder()
                .addOutputs("label").build()));

        assertThat(response.getOutputsMap()).containsOnlyKeys("label");
        for (int i = 0; i < rows.length; i++) {
            double[] expected = TinyClassifierFunction.probabilities(rows[i]);
            if (TinyClassifierFunction.margin(expected) > 1e-4) {
                assertThat(response.getOutputsMap().get("label").getInt64Values(i))
                        .isEqualTo(TinyClassifierFunction.label(expected));
            }
        }
    }

    @Test
    void aWrongInputIsRefusedNamingWhatTheModelExpects() {
        Tensor good = TinyClassifierChecks.features(randomRows(2));
        String expected = "\"features\" FLOAT [batch, 4]";

        assertInvalid(InferRequest.newBuilder().putInputs("x", good).build(),
                "model tiny-classifier has no input \"x\"; its inputs are " + expected);
        assertInvalid(InferRequest.getDefaultInstance(), "missing input " + expected);
        assertInvalid(request(good.toBuilder().setDtype(DataType.DOUBLE).clearFloatValues()
                        .addAllDoubleValues(List.of(1d, 2d, 3d, 4d, 5d, 6d, 7d, 8d)).build()),
                "input \"features\" must be FLOAT [batch, 4], got DOUBLE");
        assertInvalid(request(good.toBuilder().clearShape().addShape(4).addShape(2).build()),
                "input \"features\" must have shape [batch, 4], got [4, 2]");
        assertInvalid(request(good.toBuilder().clearShape().addShape(8).build()),
                "input \"features\" must have shape [batch, 4], got [8]");
        assertInvalid(request(good.toBuilder().addFloatValues(1f).build()),
                "input \"features\" of shape [2, 4] needs 8 FLOAT values, got 9");
        assertInvalid(request(good.toBuilder().addInt64Values(1).build()),
                "input \"features\" is FLOAT but carries INT64 values");
        assertInvalid(request(good).toBuilder().addOutputs("y").build(), "model tiny-classifier has no output \"y\"; "
                + "its outputs are \"probabilities\" FLOAT [batch, 3], \"label\" INT64 [batch]");
    }

    @Test
    void aWrongItemOfABatchIsNamed() {
        Tensor good = TinyClassifierChecks.features(randomRows(1));
        InferBatchRequest batch = InferBatchRequest.newBuilder()
                .addItems(TensorMap.newBuilder().putTensors("features", good))
                .addItems(TensorMap.newBuilder().putTensors("features", good.toBuilder().setShape(1, 3).build()))
                .build();

        assertThatThrownBy(() -> call("infer-batch", batch)).isInstanceOfSatisfying(CapabilityException.class, e -> {
            assertThat(e.reason()).isEqualTo(CapabilityException.Reason.INVALID_ARGUMENT);
            assertThat(e.getMessage()).isEqualTo("item 1: input \"features\" must have shape [batch, 4], got [1, 3]");
        });
    }

    @Test
    void unknownModelsMethodsAndPayloadsAreRefused() {
        assertThatThrownBy(() -> call("describe", DescribeRequest.newBuilder().setModel("resnet").build()))
                .isInstanceOfSatisfying(CapabilityException.class, e -> assertThat(e.reason())
                        .isEqualTo(CapabilityException.Reason.NOT_FOUND));
        assertThatThrownBy(() -> extension.invoke(Invocation.of("ml.onnx", "train", new byte[0])))
                .isInstanceOfSatisfying(CapabilityException.class, e -> assertThat(e.reason())
                        .isEqualTo(CapabilityException.Reason.NOT_FOUND));
        assertThatThrownBy(() -> extension.invoke(Invocation.of("ml.onnx", "infer", new byte[] {(byte) 0xff})))
                .isInstanceOfSatisfying(CapabilityException.class, e -> assertThat(e.reason())
                        .isEqualTo(CapabilityException.Reason.INVALID_ARGUMENT));
    }

    @Test
    void callsPastTheModelsLimitAreRefusedUntilARunEnds() throws Exception {
        var runs = extension.model("").runs();
        runs.acquire(2); // two runs in progress
        try {
            assertThatThrownBy(() -> call("infer", request(randomRows(1))))
                    .isInstanceOfSatisfying(CapabilityException.class, e -> {
                        assertThat(e.reason()).isEqualTo(CapabilityException.Reason.RESOURCE_EXHAUSTED);
                        assertThat(e.getMessage()).contains("limit of 2 calls at once");
                    });
        } finally {
            runs.release(2);
        }
        assertThat(InferResponse.parseFrom(call("infer", request(randomRows(1)))).getOutputsCount()).isEqualTo(2);
    }

    // ---- helpers ----------------------------------------------------------------------------------------

    static OnnxExtension started(Map<String, String> settings) throws Exception {
        OnnxExtension started = new OnnxExtension();
        started.start(new ExtensionContext() {
            @Override
            public String id() {
                return "ml-onnx";
            }

            @Override
            public String version() {
                return "1.0.0";
            }

            @Override
            public Map<String, String> settings() {
                return settings;
            }
        });
        return started;
    }

    private byte[] call(String method, MessageLite request) throws Exception {
        return extension.invoke(Invocation.of("ml.onnx", method, request.toByteArray()));
    }

    private void assertInvalid(InferRequest request, String message) {
        assertThatThrownBy(() -> call("infer", request)).isInstanceOfSatisfying(CapabilityException.class, e -> {
            assertThat(e.reason()).isEqualTo(CapabilityException.Reason.INVALID_ARGUMENT);
            assertThat(e.getMessage()).startsWith(message);
        });
    }

    private float[][] randomRows(int count) {
        return TinyClassifierFunction.randomExamples(random, count);
    }

    private static InferRequest request(float[][] rows) {
        return request(TinyClassifierChecks.features(rows));
    }

    private static InferRequest request(Tensor features) {
        return InferRequest.newBuilder().putInputs("features", features).build();
    }

    private static TensorSpec spec(String name, DataType type, List<Long> shape, String... dimensionNames) {
        return TensorSpec.newBuilder().setName(name).setDtype(type).addAllShape(shape)
                .addAllDimensionNames(List.of(dimensionNames)).build();
    }
}
