package io.capmesh.sample;

/**
 * The flowers the sample classifies: id, where it was found, then the four measurements (cm) the ml runtime's
 * model takes: sepal length, sepal width, petal length, petal width.
 */
final class SampleData {

    static final Object[][] FLOWERS = {
            {1L, "north bed", 5.1, 3.5, 1.4, 0.2},
            {2L, "north bed", 4.9, 3.0, 1.4, 0.2},
            {3L, "greenhouse", 7.0, 3.2, 4.7, 1.4},
            {4L, "greenhouse", 6.4, 3.2, 4.5, 1.5},
            {5L, "meadow", 6.3, 3.3, 6.0, 2.5},
            {6L, "meadow", 7.7, 3.8, 6.7, 2.2},
    };

    private SampleData() {
    }
}
