package io.capmesh.core;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The runtime as an operator would start it, on every interface and with access control off: it refuses. */
class ExposedRuntimeTest {

    @TempDir
    Path data;

    @Test
    void anOpenRuntimeOnEveryInterfaceDoesNotStart() {
        assertThatThrownBy(() -> new SpringApplicationBuilder(CoreRuntimeApplication.class).run(
                "--spring.grpc.server.address=0.0.0.0", "--spring.grpc.server.port=0", "--server.port=0",
                "--capmesh.runtime.data-dir=" + data).close())
                .rootCause()
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("access control is off")
                .hasMessageContaining("0.0.0.0 (spring.grpc.server.address)");
    }
}
