package io.capmesh.data;

import org.springframework.test.context.TestPropertySource;

/** The suite on the embedded default: an H2 file database under the data dir. */
@TestPropertySource(properties = {
        "capmesh.data.datasources.main.password=h2-" + SqlSuite.SECRET,
        "capmesh.data.datasources.reports.url=jdbc:h2:file:${capmesh.runtime.data-dir}/sql/main",
        "capmesh.data.datasources.reports.username=sa",
        "capmesh.data.datasources.reports.password=h2-" + SqlSuite.SECRET,
        "capmesh.data.datasources.reports.read-only=true",
        "capmesh.data.datasources.broken.url=jdbc:h2:file:${capmesh.runtime.data-dir}/sql/absent;IFEXISTS=TRUE",
        "capmesh.data.datasources.broken.password=wrong-" + SqlSuite.SECRET})
class H2SqlTest extends SqlSuite {

    @Override
    String slowQuery() {
        return "SELECT COUNT(*) FROM SYSTEM_RANGE(1, 1000000) a, SYSTEM_RANGE(1, 1000000) b";
    }

    @Override
    String series(int rows, int width) {
        return "SELECT X AS n, REPEAT('x', " + width + ") AS pad FROM SYSTEM_RANGE(1, " + rows + ")";
    }

    @Override
    String binaryType() {
        return "VARBINARY(16)";
    }
}
