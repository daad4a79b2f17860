package io.capmesh.extensions.mlonnx;

/**
 * The function {@code models/tiny-classifier.onnx} computes: its constants (chosen, not trained) and a plain-Java
 * evaluation in double precision, independent of ONNX and its runtime, that the tests hold the model's answers to.
 *
 * <pre>
 *   scaled        = (features - MEAN) / SCALE
 *   hidden        = relu(scaled · W1 + B1)            8 units
 *   logits        = hidden · W2 + B2                  3 classes
 *   probabilities = softmax(logits)                   float [batch, 3]
 *   label         = argmax(logits)                    int64 [batch]
 * </pre>
 */
public final class TinyClassifierFunction {

    public static final int FEATURES = 4;
    public static final int HIDDEN = 8;
    public static final int CLASSES = 3;

    static final float[] MEAN = {5.8f, 3.0f, 3.8f, 1.2f};
    static final float[] SCALE = {0.8f, 0.4f, 1.8f, 0.8f};
    static final float[][] W1 = {
            {0.9f, -0.6f, 0.3f, 1.1f, -0.4f, 0.7f, -1.2f, 0.2f},
            {-0.5f, 0.8f, 1.0f, -0.3f, 0.6f, -0.9f, 0.4f, 0.5f},
            {1.3f, 0.2f, -0.7f, 0.5f, 0.9f, 0.3f, -0.2f, -1.0f},
            {0.4f, -1.1f, 0.6f, -0.8f, 0.2f, 1.2f, 0.7f, 0.3f}};
    static final float[] B1 = {0.1f, -0.2f, 0.05f, 0.0f, 0.3f, -0.1f, 0.2f, -0.05f};
    static final float[][] W2 = {
            {1.2f, -0.4f, -0.8f},
            {-0.7f, 0.9f, 0.1f},
            {0.3f, 0.5f, -1.0f},
            {0.8f, -1.1f, 0.4f},
            {-0.2f, 0.6f, 0.7f},
            {-0.9f, 0.2f, 1.1f},
            {0.5f, -0.3f, -0.6f},
            {0.1f, 0.8f, -0.4f}};
    static final float[] B2 = {0.2f, -0.1f, 0.0f};

    private TinyClassifierFunction() {
    }

    /** The class probabilities for one example of {@link #FEATURES} features. */
    public static double[] probabilities(float[] features) {
        double[] hidden = new double[HIDDEN];
        for (int j = 0; j < HIDDEN; j++) {
            double sum = B1[j];
            for (int i = 0; i < FEATURES; i++) {
                sum += (features[i] - (double) MEAN[i]) / SCALE[i] * W1[i][j];
            }
            hidden[j] = Math.max(0, sum);
        }
        double[] logits = new double[CLASSES];
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < CLASSES; k++) {
            logits[k] = B2[k];
            for (int j = 0; j < HIDDEN; j++) {
                logits[k] += hidden[j] * W2[j][k];
            }
            max = Math.max(max, logits[k]);
        }
        double total = 0;
        double[] p = new double[CLASSES];
        for (int k = 0; k < CLASSES; k++) {
            p[k] = Math.exp(logits[k] - max);
            total += p[k];
        }
        for (int k = 0; k < CLASSES; k++) {
            p[k] /= total;
        }
        return p;
    }

    /** The most probable class (the first of equals, as ONNX's ArgMax). */
    public static int label(double[] probabilities) {
        int best = 0;
        for (int k = 1; k < probabilities.length; k++) {
            if (probabilities[k] > probabilities[best]) {
                best = k;
            }
        }
        return best;
    }

    /** How far the best class is ahead of the next: below ~1e-4 float arithmetic may pick either. */
    public static double margin(double[] probabilities) {
        double best = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (double p : probabilities) {
            if (p > best) {
                second = best;
                best = p;
            } else if (p > second) {
                second = p;
            }
        }
        return best - second;
    }

    /** Features spread around the means, some far out, so every hidden unit is seen both on and off. */
    public static float[][] randomExamples(java.util.Random random, int count) {
        float[][] rows = new float[count][FEATURES];
        for (float[] row : rows) {
            for (int i = 0; i < FEATURES; i++) {
                row[i] = (float) (MEAN[i] + random.nextGaussian() * 2 * SCALE[i]);
            }
        }
        return rows;
    }
}
