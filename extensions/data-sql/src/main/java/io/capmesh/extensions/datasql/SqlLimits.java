package io.capmesh.extensions.datasql;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one call may cost, from the operator's settings for this extension
 * ({@code capmesh.runtime.extensions.data-sql.*}). They arrive as settings rather than a host object because they
 * are plain numbers: nothing here needs to outlive a swap.
 *
 * @param maxRows                   most rows a {@code query} (or a statement in a transaction) may answer
 * @param maxResultBytes            most encoded bytes of rows in one answer or one streamed batch; kept under
 *                                  gRPC's default 4 MiB message limit so every client can read the answer
 * @param statementTimeoutMillis    a statement's timeout when the call names none
 * @param maxStatementTimeoutMillis the longest timeout a call may ask for
 * @param fetchSize                 rows per streamed batch (and per database round trip) when the call names none
 * @param maxFetchSize              the largest batch a call may ask for
 */
record SqlLimits(int maxRows, long maxResultBytes, long statementTimeoutMillis, long maxStatementTimeoutMillis,
                 int fetchSize, int maxFetchSize) {

    static final SqlLimits DEFAULTS = new SqlLimits(10_000, 3L << 20, 10_000, 60_000, 1_000, 10_000);

    private static final Set<String> KEYS = Set.of("max-rows", "max-result-bytes", "statement-timeout-millis",
            "max-statement-timeout-millis", "fetch-size", "max-fetch-size");

    SqlLimits {
        positive("max-rows", maxRows);
        positive("max-result-bytes", maxResultBytes);
        positive("statement-timeout-millis", statementTimeoutMillis);
        positive("max-statement-timeout-millis", maxStatementTimeoutMillis);
        positive("fetch-size", fetchSize);
        positive("max-fetch-size", maxFetchSize);
    }

    /** Reads the settings; an unknown key or a bad number fails the extension's start, naming the setting. */
    static SqlLimits from(Map<String, String> settings) {
        Set<String> unknown = new TreeSet<>(settings.keySet());
        unknown.removeAll(KEYS);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("data-sql has no settings " + unknown + "; it knows "
                    + new TreeSet<>(KEYS));
        }
        SqlLimits d = DEFAULTS;
        return new SqlLimits(
                Math.toIntExact(number(settings, "max-rows", d.maxRows())),
                number(settings, "max-result-bytes", d.maxResultBytes()),
                number(settings, "statement-timeout-millis", d.statementTimeoutMillis()),
                number(settings, "max-statement-timeout-millis", d.maxStatementTimeoutMillis()),
                Math.toIntExact(number(settings, "fetch-size", d.fetchSize())),
                Math.toIntExact(number(settings, "max-fetch-size", d.maxFetchSize())));
    }

    /** The timeout a call gets: what it asked for (or the default), never more than the cap. */
    long timeoutMillis(long requested) {
        return Math.min(requested > 0 ? requested : statementTimeoutMillis, maxStatementTimeoutMillis);
    }

    /** Rows per streamed batch: what the call asked for (or the default), never more than the cap. */
    int fetchSize(int requested) {
        return Math.min(requested > 0 ? requested : fetchSize, maxFetchSize);
    }

    private static long number(Map<String, String> settings, String key, long fallback) {
        String value = settings.get(key);
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("data-sql setting " + key + " must be a whole number, got '"
                    + value + "'");
        }
    }

    private static void positive(String key, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException("data-sql setting " + key + " must be positive, got " + value);
        }
    }
}
