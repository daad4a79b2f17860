package io.capmesh.runtime.spring;

import java.util.Map;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;

/**
 * A runtime's management (Actuator) port follows its gRPC port unless set: 1000 below it (gRPC 9091, Actuator
 * 8091), or a free port when gRPC takes one. So two runtimes started on one host with only their gRPC ports told
 * apart do not collide on the management port. Runs after the configuration files are read, and adds the default
 * last, so any {@code server.port} given anywhere wins.
 */
public final class ManagementPortDefault implements EnvironmentPostProcessor, Ordered {

    static final String GRPC_PORT = "spring.grpc.server.port";
    static final String MANAGEMENT_PORT = "server.port";
    static final int OFFSET = 1000;

    @Override
    public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
        if (environment.containsProperty(MANAGEMENT_PORT)) {
            return;
        }
        Integer grpc = environment.getProperty(GRPC_PORT, Integer.class);
        if (grpc == null) {
            return; // the gRPC server's own default applies; so does the management server's
        }
        int management = grpc > OFFSET ? grpc - OFFSET : 0;
        environment.getPropertySources().addLast(new MapPropertySource("capmeshManagementPort",
                Map.of(MANAGEMENT_PORT, management)));
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE; // after the config files
    }
}
