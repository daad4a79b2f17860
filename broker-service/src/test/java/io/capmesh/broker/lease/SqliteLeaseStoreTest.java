package io.capmesh.broker.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.broker.lease.LeaseStore.Grant;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteLeaseStoreTest extends LeaseStoreContractTest {

    @TempDir
    Path dir;

    /** In a directory that does not exist yet, as on a broker's first start. */
    private String url() {
        return "jdbc:sqlite:" + dir.resolve("broker/leases.db");
    }

    @Override
    protected LeaseStore open(Clock clock) {
        return new JdbcLeaseStore(url(), clock);
    }

    @Override
    protected Connection rawConnection() throws SQLException {
        return DriverManager.getConnection(url());
    }

    @Test
    void leasesSurviveAReopenOfTheFile() {
        String id;
        try (LeaseStore first = new JdbcLeaseStore(url(), clock)) {
            id = first.create("acme", List.of(new Grant("text.upper", "1.0.0", "rt-a", "h", 1)),
                    Duration.ofMinutes(1)).id();
        }
        try (LeaseStore again = new JdbcLeaseStore(url(), clock)) {
            assertThat(again.find(id)).isPresent();
        }
    }

    @Test
    void rejectsAnUnsupportedUrlSayingWhatWorks() {
        assertThatThrownBy(() -> new JdbcLeaseStore("jdbc:mysql://db/broker", clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("jdbc:sqlite:<file> or jdbc:postgresql://");
    }

    @Test
    void saysWhereItCouldNotOpen() {
        Path blocked = dir.resolve("file");
        assertThatThrownBy(() -> {
            java.nio.file.Files.writeString(blocked, "not a directory");
            new JdbcLeaseStore("jdbc:sqlite:" + blocked.resolve("leases.db"), clock);
        }).isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot open the broker's store at");
    }
}
