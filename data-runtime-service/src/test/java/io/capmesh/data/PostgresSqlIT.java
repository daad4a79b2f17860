package io.capmesh.data;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.extensions.datasql.v1.QueryRequest;
import io.capmesh.testsupport.LocalContainers;
import io.grpc.Status;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** The suite against a real PostgreSQL 15 in a container built from a local Debian image. */
@DirtiesContext
class PostgresSqlIT extends SqlSuite {

    private static final PostgreSQLContainer POSTGRES = LocalContainers.postgres().withPassword("pg-" + SECRET);

    @DynamicPropertySource
    static void datasources(DynamicPropertyRegistry registry) {
        POSTGRES.start();
        for (String name : new String[] {"main", "reports", "broken"}) {
            registry.add("capmesh.data.datasources." + name + ".url", POSTGRES::getJdbcUrl);
            registry.add("capmesh.data.datasources." + name + ".username", POSTGRES::getUsername);
        }
        registry.add("capmesh.data.datasources.main.password", POSTGRES::getPassword);
        registry.add("capmesh.data.datasources.reports.password", POSTGRES::getPassword);
        registry.add("capmesh.data.datasources.reports.read-only", () -> "true");
        registry.add("capmesh.data.datasources.broken.password", () -> "wrong-" + SECRET);
    }

    /** The pools first, so that none keeps trying to reach the database once it is gone. */
    @AfterAll
    static void stop(@Autowired DataPools pools) {
        pools.close();
        POSTGRES.stop();
    }

    /** Beyond what the runtime refuses up front, PostgreSQL keeps a read-only datasource's queries from writing. */
    @Test
    void theDatabaseRefusesAQueryThatWritesOnAReadOnlyDatasource() {
        String table = table("id BIGINT PRIMARY KEY");
        Status refused = statusOf(() -> sql.query(QueryRequest.newBuilder().setDatasource("reports")
                .setSql("INSERT INTO " + table + " VALUES (?) RETURNING id").addParams(int64(1)).build()));
        assertThat(refused.getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(refused.getDescription()).contains("datasource 'reports' is read-only");
        assertThat(count(table)).isZero();
    }

    @Override
    String slowQuery() {
        return "SELECT pg_sleep(30)";
    }

    @Override
    String series(int rows, int width) {
        return "SELECT g AS n, repeat('x', " + width + ") AS pad FROM generate_series(1, " + rows + ") AS g";
    }

    @Override
    String binaryType() {
        return "BYTEA";
    }
}
