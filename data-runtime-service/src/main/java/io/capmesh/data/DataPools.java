package io.capmesh.data;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.capmesh.runtime.HostServices;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.file.Path;
import java.security.AccessController;
import java.security.PrivilegedAction;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * The tier's connection pools, one HikariCP pool per configured datasource. They belong to the host, not to an
 * extension, so they outlive every extension version: a swap finds them warm.
 */
final class DataPools implements AutoCloseable {

    private final Map<String, HikariDataSource> pools = new LinkedHashMap<>();
    private final Map<String, Boolean> readOnly = new LinkedHashMap<>();
    private boolean holdsPostgresTimer;

    /**
     * Opens every pool. A pool starts without waiting for its database (calls are answered UNAVAILABLE and health
     * says DOWN until it answers); a URL no driver accepts fails the start.
     */
    DataPools(DataProperties properties, Path dataDir, MeterRegistry meters) {
        try {
            properties.all().forEach((name, datasource) -> {
                HikariConfig config = config(name, datasource, dataDir, meters);
                if (config.getJdbcUrl().startsWith("jdbc:postgresql:") && !holdsPostgresTimer) {
                    holdPostgresTimer();
                }
                pools.put(name, new HikariDataSource(config));
                readOnly.put(name, datasource.readOnly());
            });
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static HikariConfig config(String name, DataProperties.Datasource datasource, Path dataDir,
                                       MeterRegistry meters) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(datasource.jdbcUrl(name, dataDir));
        config.setUsername(datasource.isEmbedded() && datasource.username() == null ? "sa" : datasource.username());
        config.setPassword(datasource.password());
        config.setReadOnly(datasource.readOnly());
        if (datasource.readOnly() && config.getJdbcUrl().startsWith("jdbc:postgresql:")) {
            // pgjdbc makes only explicit transactions read-only by default; autocommit statements must be too
            config.addDataSourceProperty("readOnlyMode", "always");
        }
        config.setMaximumPoolSize(datasource.maxPoolSize());
        config.setConnectionTimeout(datasource.connectionTimeout().toMillis());
        config.setInitializationFailTimeout(-1);
        config.setThreadFactory(hostThreads(name));
        config.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(meters));
        return config;
    }

    /**
     * HikariCP starts its helper threads lazily, from whichever thread first needs one: often a call running
     * extension code. A new thread inherits its creator's context classloader and access-control context (which
     * names the classes on the creator's stack), and either would keep that extension's classloader alive after
     * it is unloaded. These threads get the host's loader, and are made where the extension's frames are out of
     * sight.
     */
    @SuppressWarnings("removal") // deprecated, yet a Java 17 thread still inherits the access-control context
    private static ThreadFactory hostThreads(String pool) {
        AtomicInteger count = new AtomicInteger();
        ClassLoader host = DataPools.class.getClassLoader();
        return task -> AccessController.doPrivileged((PrivilegedAction<Thread>) () -> {
            Thread thread = new Thread(task, "data-pool-" + pool + "-" + count.incrementAndGet());
            thread.setDaemon(true);
            thread.setContextClassLoader(host);
            return thread;
        });
    }

    /**
     * The PostgreSQL driver times statements with one shared timer thread, started by the first statement that has
     * a timeout (data.sql gives every statement one) and stopped when no connection uses it. Started inside an
     * extension's call, that thread would pin the extension's classloader (see {@link #hostThreads}); the host
     * starts it instead and holds it for its own life.
     */
    private void holdPostgresTimer() {
        org.postgresql.Driver.getSharedTimer().getTimer();
        holdsPostgresTimer = true;
    }

    /** Lends every pool to the extensions as {@code hostService(DataSource.class, name)}. */
    void lendTo(HostServices services) {
        pools.forEach((name, pool) ->
                services.register(DataSource.class, name, readOnly.get(name) ? ReadOnlyDataSource.of(pool) : pool));
    }

    Map<String, HikariDataSource> pools() {
        return Collections.unmodifiableMap(pools);
    }

    @Override
    public void close() {
        pools.values().forEach(HikariDataSource::close);
        if (holdsPostgresTimer) {
            holdsPostgresTimer = false;
            org.postgresql.Driver.getSharedTimer().releaseTimer();
        }
    }
}
