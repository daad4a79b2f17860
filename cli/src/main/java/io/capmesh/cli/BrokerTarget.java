package io.capmesh.cli;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code --broker}: which broker a command talks to; by default the local mesh's, else 127.0.0.1:9090. */
public final class BrokerTarget {

    @Option(names = "--broker", paramLabel = "HOST:PORT", converter = HostPort.Converter.class,
            description = "The broker's gRPC address (default: the local mesh's in --dir, else 127.0.0.1:9090).")
    private HostPort broker;

    @Mixin
    private MeshDirectory directory;

    public HostPort broker() {
        if (broker != null) {
            return broker;
        }
        return LocalMesh.brokerOf(directory.mesh().dir()).orElse(HostPort.loopback(LocalMesh.DEFAULT_BASE_PORT));
    }
}
