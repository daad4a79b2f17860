package io.capmesh.access.spring;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.access.spring.AccessProperties.Mode;
import org.junit.jupiter.api.Test;

/** An open service stays on loopback unless told, in so many words, that it may listen beyond. */
class ExposureCheckTest {

    @Test
    void loopbackIsAlwaysAllowed() {
        for (String loopback : new String[] {"127.0.0.1", "127.0.0.2", "::1", "localhost"}) {
            assertThatCode(() -> new ExposureCheck(Mode.OFF, false, loopback).verify()).as(loopback)
                    .doesNotThrowAnyException();
        }
    }

    @Test
    void beyondLoopbackWithAccessControlOffIsRefusedWithWhatToDo() {
        for (String open : new String[] {"0.0.0.0", "::", null}) {
            assertThatThrownBy(() -> new ExposureCheck(Mode.OFF, false, open).verify()).as(String.valueOf(open))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("access control is off (capmesh.access.mode)")
                    .hasMessageContaining("spring.grpc.server.address=127.0.0.1")
                    .hasMessageContaining("capmesh.access.mode=required")
                    .hasMessageContaining("capmesh.access.insecure=true");
        }
    }

    @Test
    void accessControlOrAnExplicitInsecureSettingLetsItListenEverywhere() {
        assertThatCode(() -> new ExposureCheck(Mode.REQUIRED, false, "0.0.0.0").verify()).doesNotThrowAnyException();
        assertThatCode(() -> new ExposureCheck(Mode.OFF, true, "0.0.0.0").verify()).doesNotThrowAnyException();
    }
}
