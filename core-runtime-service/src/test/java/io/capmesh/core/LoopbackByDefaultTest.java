package io.capmesh.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.tomcat.TomcatWebServer;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/** Started with no address set, as a user first starts it: both its sockets are bound to loopback only. */
class LoopbackByDefaultTest {

    @TempDir
    Path data;

    @Test
    void theGrpcAndManagementSocketsListenOnLoopbackOnly() {
        List<SocketAddress> grpc = new CopyOnWriteArrayList<>();
        ApplicationListener<GrpcServerStartedEvent> started = event -> grpc.addAll(event.getServer().getListenSockets());
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(CoreRuntimeApplication.class)
                .listeners(started)
                .run("--spring.grpc.server.port=0", "--server.port=0", "--capmesh.runtime.data-dir=" + data)) {
            assertThat(grpc).isNotEmpty().allSatisfy(socket ->
                    assertThat(((InetSocketAddress) socket).getAddress().isLoopbackAddress()).as(socket.toString())
                            .isTrue());
            TomcatWebServer web = (TomcatWebServer) ((WebServerApplicationContext) context).getWebServer();
            Object address = web.getTomcat().getConnector().getProperty("address");
            assertThat(address).as("Actuator's bind address (null would be every interface)")
                    .isInstanceOfSatisfying(InetAddress.class, a -> assertThat(a.isLoopbackAddress()).isTrue());
        }
    }
}
