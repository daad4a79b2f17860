package io.capmesh.data;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code capmesh.data.*}: the tier's named datasources. There is always one called {@code main}; a datasource
 * without a URL is an embedded H2 database in the runtime's data directory, so the tier runs with nothing
 * installed.
 *
 * @param datasources by name, as calls refer to them
 */
@ConfigurationProperties("capmesh.data")
public record DataProperties(@DefaultValue Map<String, Datasource> datasources) {

    /** The name calls use when they name none. */
    public static final String MAIN = "main";

    /**
     * @param url               JDBC URL, e.g. {@code jdbc:postgresql://db:5432/app}; empty: H2 under the data dir
     * @param username          empty for the embedded default ({@code sa})
     * @param password          never logged or shown to callers
     * @param readOnly          refuse writes: extensions see connections that say so, and the database is asked
     *                          for read-only transactions (PostgreSQL enforces them; H2 does not)
     * @param maxPoolSize       connections kept open
     * @param connectionTimeout how long a call waits for a free connection before it is answered UNAVAILABLE
     */
    public record Datasource(String url, String username, String password, boolean readOnly,
                             @DefaultValue("10") int maxPoolSize, @DefaultValue("5s") Duration connectionTimeout) {

        static Datasource embedded() {
            return new Datasource(null, null, null, false, 10, Duration.ofSeconds(5));
        }

        boolean isEmbedded() {
            return url == null || url.isBlank();
        }

        /** The URL to connect to: the configured one, or an H2 file named after the datasource. */
        String jdbcUrl(String name, Path dataDir) {
            return isEmbedded()
                    ? "jdbc:h2:file:" + dataDir.resolve("sql").resolve(name).toAbsolutePath()
                            + ";DB_CLOSE_ON_EXIT=FALSE" // the pools close it, after the extensions are gone
                    : url;
        }
    }

    /** Every datasource by name, with {@code main} added (embedded) when it is not configured. */
    public Map<String, Datasource> all() {
        Map<String, Datasource> all = new TreeMap<>(datasources);
        all.putIfAbsent(MAIN, Datasource.embedded());
        return all;
    }
}
