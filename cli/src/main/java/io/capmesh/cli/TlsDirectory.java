package io.capmesh.cli;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A directory of certificates as {@code capmesh certs} writes it: {@code ca.pem}, and {@code NAME.pem} with
 * {@code NAME-key.pem} (PKCS#8) for each service and for the {@code client}.
 */
record TlsDirectory(Path dir) {

    static final String CA = "ca.pem";
    static final String CA_KEY = "ca-key.pem";
    static final String CLIENT = "client";

    TlsDirectory {
        dir = dir.toAbsolutePath().normalize();
    }

    Path ca() {
        return dir.resolve(CA);
    }

    Path certificate(String name) {
        return dir.resolve(name + ".pem");
    }

    Path key(String name) {
        return dir.resolve(name + "-key.pem");
    }

    /** Fails as a usage error, naming every file missing, unless the CA and the named pairs are all there. */
    TlsDirectory require(List<String> names) {
        List<String> missing = new ArrayList<>();
        if (!Files.isRegularFile(ca())) {
            missing.add(ca().toString());
        }
        for (String name : names) {
            for (Path file : List.of(certificate(name), key(name))) {
                if (!Files.isRegularFile(file)) {
                    missing.add(file.toString());
                }
            }
        }
        if (!missing.isEmpty()) {
            throw CliFailure.usage("--tls " + dir + " lacks " + String.join(", ", missing)
                    + ": make the certificates with `capmesh certs --out " + dir + "`");
        }
        return this;
    }

    /** Mutual TLS as the client: trusts the CA, presents {@code client.pem}. */
    ChannelCredentials clientCredentials() {
        require(List.of(CLIENT));
        try {
            return TlsChannelCredentials.newBuilder().trustManager(ca().toFile())
                    .keyManager(certificate(CLIENT).toFile(), key(CLIENT).toFile()).build();
        } catch (IOException e) {
            throw CliFailure.usage("cannot read the certificates in " + dir + ": " + e.getMessage());
        }
    }

    /**
     * The Spring Boot arguments that make a service serve mutual TLS with its own certificate (an SSL bundle named
     * {@code capmesh}) and use the same bundle for its own calls to the broker or the runtimes.
     */
    List<String> serviceArguments(String service) {
        return List.of(
                "--spring.ssl.bundle.pem.capmesh.keystore.certificate=file:" + certificate(service),
                "--spring.ssl.bundle.pem.capmesh.keystore.private-key=file:" + key(service),
                "--spring.ssl.bundle.pem.capmesh.truststore.certificate=file:" + ca(),
                "--spring.grpc.server.ssl.bundle=capmesh",
                "--spring.grpc.server.ssl.client-auth=require");
    }
}
