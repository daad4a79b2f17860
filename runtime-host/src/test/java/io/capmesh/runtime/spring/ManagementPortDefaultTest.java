package io.capmesh.runtime.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.io.support.SpringFactoriesLoader;

/** Two runtimes on one host, told apart by their gRPC ports alone, get management ports that do not collide. */
class ManagementPortDefaultTest {

    @Test
    void theManagementPortFollowsTheGrpcPort() {
        assertThat(managementPort(Map.of("spring.grpc.server.port", "9091"))).isEqualTo("8091");
        assertThat(managementPort(Map.of("spring.grpc.server.port", "9092"))).isEqualTo("8092");
        assertThat(managementPort(Map.of("spring.grpc.server.port", "0"))).isEqualTo("0");
    }

    @Test
    void aManagementPortGivenAnywhereWins() {
        assertThat(managementPort(Map.of("spring.grpc.server.port", "9091", "server.port", "18091")))
                .isEqualTo("18091");
    }

    @Test
    void springBootRunsItForEveryRuntimeService() throws Exception {
        StringBuilder factories = new StringBuilder();
        for (var url : java.util.Collections.list(getClass().getClassLoader().getResources(
                SpringFactoriesLoader.FACTORIES_RESOURCE_LOCATION))) {
            try (var in = url.openStream()) {
                factories.append(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        assertThat(factories.toString().replace("\\\n", "").replaceAll("\\s", ""))
                .contains(EnvironmentPostProcessor.class.getName() + "=" + ManagementPortDefault.class.getName());
    }

    private static String managementPort(Map<String, Object> given) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().addFirst(new MapPropertySource("given", given));
        new ManagementPortDefault().postProcessEnvironment(environment, new SpringApplication());
        return environment.getProperty("server.port");
    }
}
