package io.capmesh.runtime.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

class RuntimePropertiesTest {

    @Test
    void advertisesLoopbackByDefault() {
        RuntimeProperties.Broker broker = bind(Map.of("capmesh.runtime.broker.address", "broker:9090")).broker();

        assertThat(broker.advertisedHost()).isEqualTo("127.0.0.1");
    }

    @Test
    void advertisesTheConfiguredHost() {
        RuntimeProperties.Broker broker = bind(Map.of("capmesh.runtime.broker.address", "broker:9090",
                "capmesh.runtime.broker.advertise-host", "10.1.2.3")).broker();

        assertThat(broker.advertisedHost()).isEqualTo("10.1.2.3");
    }

    @Test
    void anEmptyAdvertiseHostMeansThisHostsAddress() throws Exception {
        RuntimeProperties.Broker broker = bind(Map.of("capmesh.runtime.broker.address", "broker:9090",
                "capmesh.runtime.broker.advertise-host", "")).broker();

        assertThat(broker.advertisedHost()).isEqualTo(InetAddress.getLocalHost().getHostAddress());
    }

    @Test
    void queuedCallsDefaultTo256AndReachTheSettings() {
        assertThat(bind(Map.of()).toSettings().maxQueuedCalls()).isEqualTo(256);
        assertThat(bind(Map.of("capmesh.runtime.max-queued-calls", "0")).toSettings().maxQueuedCalls()).isZero();
    }

    @Test
    void idleEvictionIsOffByDefault() {
        assertThat(bind(Map.of()).toSettings().idleEviction()).isZero();
        assertThat(bind(Map.of("capmesh.runtime.idle-eviction", "10m")).toSettings().idleEviction())
                .isEqualTo(Duration.ofMinutes(10));
    }

    private static RuntimeProperties bind(Map<String, String> properties) {
        return new Binder(new MapConfigurationPropertySource(properties))
                .bindOrCreate("capmesh.runtime", RuntimeProperties.class);
    }
}
