package io.capmesh.cli;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --broker} and {@code --tls}: which broker a command talks to (by default the local mesh's, else
 * 127.0.0.1:9090), and whether with mutual TLS (by default as the local mesh was started).
 */
public final class BrokerTarget {

    @Option(names = "--broker", paramLabel = "HOST:PORT", converter = HostPort.Converter.class,
            description = "The broker's gRPC address (default: the local mesh's in --dir, else 127.0.0.1:9090).")
    private HostPort broker;

    @Option(names = "--tls", paramLabel = "DIR",
            description = "Talk mutual TLS with the certificates in DIR from `capmesh certs` (ca.pem, client.pem,"
                    + " client-key.pem); default: as the local mesh in --dir was started, when --broker is not given.")
    private Path tls;

    @Mixin
    private MeshDirectory directory;

    public HostPort broker() {
        if (broker != null) {
            return broker;
        }
        return LocalMesh.brokerOf(directory.mesh().dir()).orElse(HostPort.loopback(LocalMesh.DEFAULT_BASE_PORT));
    }

    /** How to secure channels to the broker and its runtimes. */
    public ChannelCredentials credentials() {
        Optional<Path> certificates = tls != null ? Optional.of(tls)
                : broker != null ? Optional.empty() : LocalMesh.tlsOf(directory.mesh().dir());
        return certificates.map(dir -> new TlsDirectory(dir).clientCredentials())
                .orElseGet(InsecureChannelCredentials::create);
    }
}
