package io.capmesh.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.HdrHistogram.Histogram;

/**
 * The latency distribution of one call path: percentiles in nanoseconds, throughput, and the curve the chart draws.
 *
 * @param calls         calls measured
 * @param failed        calls that failed (not in the percentiles)
 * @param callsPerSecond completed calls per second of wall time
 * @param curve         {percentile, nanos} points from 0 up to the largest value, for the chart
 */
public record Latency(double p50, double p90, double p99, double p999, double max, long calls, long failed,
                      double callsPerSecond, List<double[]> curve) {

    /** Percentiles the chart plots, ever closer to 100. */
    static final double[] CURVE_PERCENTILES = {0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999};

    public static Latency of(Histogram histogram, long failed, double seconds) {
        return of(histogram::getValueAtPercentile, histogram.getTotalCount(), histogram.getMaxValue(), failed,
                seconds <= 0 ? 0 : histogram.getTotalCount() / seconds);
    }

    /** @param percentile nanos at a percentile (0 to 100) */
    public static Latency of(DoubleUnaryOperator percentile, long calls, double max, long failed,
                             double callsPerSecond) {
        List<double[]> curve = new ArrayList<>();
        for (double p : CURVE_PERCENTILES) {
            curve.add(new double[] {p, percentile.applyAsDouble(p)});
        }
        curve.add(new double[] {100, max});
        return new Latency(percentile.applyAsDouble(50), percentile.applyAsDouble(90), percentile.applyAsDouble(99),
                percentile.applyAsDouble(99.9), max, calls, failed, callsPerSecond, List.copyOf(curve));
    }
}
