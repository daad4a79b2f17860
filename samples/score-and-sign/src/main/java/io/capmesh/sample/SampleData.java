package io.capmesh.sample;

/** The applicants the sample scores: id, name, then the model's four features. */
final class SampleData {

    static final Object[][] APPLICANTS = {
            {1L, "Ada", 0.92, 0.10, 0.80, 0.00},
            {2L, "Brook", 0.35, 0.70, 0.20, 0.60},
            {3L, "Chen", 0.61, 0.40, 0.55, 0.10},
            {4L, "Dara", 0.15, 0.90, 0.05, 0.90},
            {5L, "Emil", 0.78, 0.25, 0.65, 0.05},
            {6L, "Farah", 0.50, 0.50, 0.50, 0.30},
    };

    private SampleData() {
    }
}
