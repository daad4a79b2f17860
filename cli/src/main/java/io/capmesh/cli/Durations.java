package io.capmesh.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Durations as people write them: {@code 500ms}, {@code 10s}, {@code 2m} (or ISO-8601, {@code PT10S}). */
final class Durations implements CommandLine.ITypeConverter<Duration> {

    private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

    @Override
    public Duration convert(String value) {
        Duration duration = parse(value);
        if (duration.isZero()) {
            throw new CommandLine.TypeConversionException("the duration must be positive, got '" + value + "'");
        }
        return duration;
    }

    /** For a wait that may be none: {@code 0s} is taken. */
    static final class OrZero implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parse(value);
        }
    }

    private static Duration parse(String value) {
        Matcher m = SHORT.matcher(value.trim());
        Duration duration;
        if (m.matches()) {
            long amount = Long.parseLong(m.group(1));
            duration = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
        } else {
            try {
                duration = Duration.parse(value.trim());
            } catch (RuntimeException e) {
                throw new CommandLine.TypeConversionException("'" + value + "' is not a duration such as 500ms, 10s"
                        + " or 2m");
            }
        }
        if (duration.isNegative()) {
            throw new CommandLine.TypeConversionException("the duration must not be negative, got '" + value + "'");
        }
        return duration;
    }

    /** How a duration reads in output: {@code 850 ms}, {@code 4.2 s}. */
    static String brief(Duration duration) {
        long millis = duration.toMillis();
        return millis < 1_000 ? millis + " ms" : String.format(java.util.Locale.ROOT, "%.1f s", millis / 1000.0);
    }
}
