package io.capmesh.runtime.spring;

import io.capmesh.access.Revocations;
import io.capmesh.proto.client.BrokerChannels;
import io.capmesh.runtime.RuntimeHost;
import io.capmesh.runtime.broker.BrokerRegistration;
import io.grpc.ChannelCredentials;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.springframework.context.event.ContextClosedEvent;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;

/** Registers the runtime with the broker once its gRPC server listens; deregisters before it stops. */
final class BrokerRegistrar {

    private final RuntimeHost host;
    private final RuntimeProperties properties;
    private final String application;
    private final ChannelCredentials credentials;
    private final Revocations revocations;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "capmesh-broker-heartbeat");
        thread.setDaemon(true);
        return thread;
    });
    private volatile BrokerRegistration registration;

    BrokerRegistrar(RuntimeHost host, RuntimeProperties properties, String application,
                    ChannelCredentials credentials, Revocations revocations) {
        this.revocations = revocations;
        this.host = host;
        this.properties = properties;
        this.application = application;
        this.credentials = credentials;
    }

    @EventListener
    void serverStarted(GrpcServerStartedEvent started) {
        RuntimeProperties.Broker broker = properties.broker();
        String advertisedHost = broker.advertisedHost();
        String runtimeId = broker.runtimeId() == null || broker.runtimeId().isBlank()
                ? application + "@" + advertisedHost + ":" + started.getPort()
                : broker.runtimeId();
        registration = new BrokerRegistration(
                BrokerChannels.builder(broker.address(), credentials, BrokerChannels.Balancing.PICK_FIRST).build(),
                host.runtime(),
                new BrokerRegistration.Identity(runtimeId, properties.tier(), advertisedHost,
                        started.getPort()),
                timer, revocations);
        registration.start();
    }

    @EventListener
    void closing(ContextClosedEvent closed) {
        BrokerRegistration current = registration;
        if (current != null) {
            current.close();
        }
        timer.shutdownNow();
    }
}
