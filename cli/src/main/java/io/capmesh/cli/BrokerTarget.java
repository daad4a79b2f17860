package io.capmesh.cli;

import io.capmesh.access.BearerToken;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code --broker}, {@code --tls} and {@code --token-file}: which broker a command talks to (by default the local
 * mesh's, else 127.0.0.1:9090), whether with mutual TLS (by default as the local mesh was started), and with which
 * bearer token.
 */
public final class BrokerTarget {

    @Option(names = "--broker", paramLabel = "HOST:PORT[,HOST:PORT...]", converter = BrokerAddress.Converter.class,
            description = "The broker's gRPC address, or several replicas' separated by commas (default: the local"
                    + " mesh's in --dir, else 127.0.0.1:9090).")
    private BrokerAddress broker;

    @Option(names = "--tls", paramLabel = "DIR",
            description = "Talk mutual TLS with the certificates in DIR from `capmesh certs` (ca.pem, client.pem,"
                    + " client-key.pem); default: as the local mesh in --dir was started, when --broker is not given.")
    private Path tls;

    @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "${env:CAPMESH_TOKEN_FILE}",
            description = "Send the bearer token in FILE (from `capmesh token`) to services that require access"
                    + " control (default: $CAPMESH_TOKEN_FILE, else the operator's token of the local mesh in --dir"
                    + " when it runs with access control and --broker is not given).")
    private Path tokenFile;

    @Mixin
    private MeshDirectory directory;

    public BrokerAddress broker() {
        if (broker != null) {
            return broker;
        }
        return BrokerAddress.of(LocalMesh.brokerOf(directory.mesh().dir())
                .orElse(HostPort.loopback(LocalMesh.DEFAULT_BASE_PORT)));
    }

    /** How to secure channels to the broker and its runtimes, and who to say the caller is. */
    public ChannelCredentials credentials() {
        Optional<Path> certificates = tls != null ? Optional.of(tls)
                : broker != null ? Optional.empty() : LocalMesh.tlsOf(directory.mesh().dir());
        ChannelCredentials channel = certificates.map(dir -> new TlsDirectory(dir).clientCredentials())
                .orElseGet(InsecureChannelCredentials::create);
        Optional<Path> token = tokenFile != null ? Optional.of(tokenFile)
                : broker != null ? Optional.empty() : LocalMesh.operatorTokenOf(directory.mesh().dir());
        if (token.isEmpty()) {
            return channel;
        }
        if (!Files.isReadable(token.get())) {
            throw CliFailure.usage("--token-file " + token.get() + " cannot be read");
        }
        return CompositeChannelCredentials.create(channel, BearerToken.fromFile(token.get()));
    }
}
