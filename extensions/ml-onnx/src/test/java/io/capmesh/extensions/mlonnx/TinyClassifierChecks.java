package io.capmesh.extensions.mlonnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import java.util.Map;

/** Requests for tiny-classifier and checks of its answers against {@link TinyClassifierFunction}, for any test. */
public final class TinyClassifierChecks {

    /** Float32 arithmetic in ONNX Runtime against double precision here. */
    public static final double TOLERANCE = 1e-5;

    private TinyClassifierChecks() {
    }

    /** The {@code features} input for these examples: FLOAT [rows, 4]. */
    public static Tensor features(float[][] rows) {
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(DataType.FLOAT).addShape(rows.length)
                .addShape(TinyClassifierFunction.FEATURES);
        for (float[] row : rows) {
            for (float value : row) {
                tensor.addFloatValues(value);
            }
        }
        return tensor.build();
    }

    /** Both outputs for these examples are what {@link TinyClassifierFunction} computes, within {@link #TOLERANCE}. */
    public static void assertMatches(float[][] rows, Map<String, Tensor> outputs) {
        int classes = TinyClassifierFunction.CLASSES;
        Tensor probabilities = outputs.get("probabilities");
        Tensor label = outputs.get("label");
        assertThat(probabilities.getDtype()).isEqualTo(DataType.FLOAT);
        assertThat(probabilities.getShapeList()).containsExactly((long) rows.length, (long) classes);
        assertThat(label.getDtype()).isEqualTo(DataType.INT64);
        assertThat(label.getShapeList()).containsExactly((long) rows.length);
        for (int r = 0; r < rows.length; r++) {
            double[] expected = TinyClassifierFunction.probabilities(rows[r]);
            double[] actual = new double[classes];
            for (int k = 0; k < classes; k++) {
                actual[k] = probabilities.getFloatValues(r * classes + k);
                assertThat(actual[k]).as("row %d class %d", r, k).isCloseTo(expected[k], within(TOLERANCE));
            }
            assertThat(label.getInt64Values(r)).isEqualTo(TinyClassifierFunction.label(actual));
            if (TinyClassifierFunction.margin(expected) > 1e-4) { // a near tie may fall either way in float arithmetic
                assertThat(label.getInt64Values(r)).isEqualTo(TinyClassifierFunction.label(expected));
            }
        }
    }
}
