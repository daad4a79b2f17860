package io.capmesh.testsupport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** A real PostgreSQL from the locally built image, reached over JDBC through the mapped port. */
@Testcontainers
class LocalContainersIT {

    @Container
    static final PostgreSQLContainer POSTGRES = LocalContainers.postgres();

    @Test
    void sqlRoundTrip() throws SQLException {
        try (Connection connection = connect(POSTGRES.getPassword()); Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE capability (id serial PRIMARY KEY, name text NOT NULL, version text NOT NULL)");
            try (PreparedStatement insert = connection.prepareStatement(
                "INSERT INTO capability (name, version) VALUES (?, ?)")) {
                insert.setString(1, "core.echo");
                insert.setString(2, "1.0.0");
                assertThat(insert.executeUpdate()).isEqualTo(1);
            }
            try (ResultSet rows = statement.executeQuery(
                "SELECT name, version, current_database(), current_user, current_setting('server_version_num')::int"
                    + " FROM capability")) {
                assertThat(rows.next()).isTrue();
                assertThat(rows.getString(1)).isEqualTo("core.echo");
                assertThat(rows.getString(2)).isEqualTo("1.0.0");
                assertThat(rows.getString(3)).isEqualTo(POSTGRES.getDatabaseName());
                assertThat(rows.getString(4)).isEqualTo(POSTGRES.getUsername());
                assertThat(rows.getInt(5) / 10000).isEqualTo(15);
                assertThat(rows.next()).isFalse();
            }
        }
    }

    @Test
    void passwordIsRequired() {
        // 28P01: invalid_password. The server really checks passwords on TCP connections.
        assertThatThrownBy(() -> connect("wrong").close())
            .isInstanceOf(SQLException.class)
            .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28P01"));
    }

    @Test
    void missingImageFailsAtOnceInsteadOfPulling() {
        assertThatThrownBy(() -> {
            try (var container = LocalContainers.container("no-such-image")) {
                container.start();
            }
        }).hasStackTraceContaining("capmesh/no-such-image:latest is not on the local Docker engine")
            .hasStackTraceContaining("tools/containers/ensure-engine.sh");
    }

    private static Connection connect(String password) throws SQLException {
        return DriverManager.getConnection(POSTGRES.getJdbcUrl(), POSTGRES.getUsername(), password);
    }
}
