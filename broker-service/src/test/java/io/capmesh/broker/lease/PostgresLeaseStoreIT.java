package io.capmesh.broker.lease;

import io.capmesh.testsupport.LocalContainers;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** The lease store contract against a real PostgreSQL 15 in a container, a fresh database per test. */
class PostgresLeaseStoreIT extends LeaseStoreContractTest {

    private static final PostgreSQLContainer POSTGRES = LocalContainers.postgres();

    private String url;

    @BeforeAll
    static void start() {
        POSTGRES.start();
    }

    @AfterAll
    static void stop() {
        POSTGRES.stop();
    }

    @BeforeEach
    void freshDatabase() throws SQLException {
        String database = "leases_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection admin = DriverManager.getConnection(POSTGRES.getJdbcUrl(), POSTGRES.getUsername(),
                POSTGRES.getPassword()); Statement s = admin.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
        url = POSTGRES.getJdbcUrl().replaceFirst("/[^/?]+(\\?|$)", "/" + database + "$1");
    }

    @Override
    protected LeaseStore open(Clock clock) {
        return new JdbcLeaseStore(url, POSTGRES.getUsername(), POSTGRES.getPassword(), clock);
    }

    @Override
    protected Connection rawConnection() throws SQLException {
        return DriverManager.getConnection(url, POSTGRES.getUsername(), POSTGRES.getPassword());
    }
}
