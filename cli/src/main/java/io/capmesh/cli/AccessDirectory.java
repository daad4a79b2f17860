package io.capmesh.cli;

import io.capmesh.access.BearerToken;
import io.capmesh.access.TokenIssuer;
import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import io.grpc.ChannelCredentials;
import io.grpc.CompositeChannelCredentials;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What a local mesh with access control runs on, made once in the mesh's {@code access/} directory and kept for
 * later starts: a token issuer key, the broker's lease signing key, and bearer tokens for the broker (which loads
 * on demand: the deploy role on runtimes), the runtimes (the runtime role on the broker) and the operator (deploy
 * and keys on runtimes, leases for every account), which the other commands use on this mesh.
 */
record AccessDirectory(Path dir) {

    private static final Duration TOKEN_LIFE = Duration.ofDays(30);
    static final String OPERATOR = "operator";

    AccessDirectory {
        dir = dir.toAbsolutePath().normalize();
    }

    Path operatorToken() {
        return dir.resolve(OPERATOR + ".token");
    }

    /** Makes the keys and tokens unless they are there; tokens about to expire are made again. */
    AccessDirectory prepare() {
        try {
            Files.createDirectories(dir);
            KeyPair issuer = keyPair("issuer");
            keyPair("broker-lease");
            TokenIssuer tokens = new TokenIssuer(issuer, Clock.systemUTC());
            for (String subject : List.of("broker", "runtime", OPERATOR)) {
                Path token = dir.resolve(subject + ".token");
                if (!Files.isRegularFile(token) || Files.getLastModifiedTime(token).toInstant()
                        .isBefore(Clock.systemUTC().instant().minus(TOKEN_LIFE.dividedBy(2)))) {
                    writeOwnerOnly(token, tokens.accessToken(subject, TOKEN_LIFE));
                }
            }
            return this;
        } catch (IOException e) {
            throw CliFailure.failed("cannot write the access keys and tokens in " + dir + ": " + e.getMessage());
        }
    }

    /** How each service is told to require access control, whom to trust and what to grant. */
    List<String> serviceArguments(LocalMesh.Service service) {
        List<String> args = new ArrayList<>(List.of(
                "--capmesh.access.mode=required",
                "--capmesh.access.token-issuers=" + dir.resolve("issuer.pub.pem")));
        if (service == LocalMesh.Service.BROKER) {
            args.addAll(List.of(
                    "--capmesh.broker.lease-signing-key=" + dir.resolve("broker-lease.pem"),
                    "--capmesh.access.token-file=" + dir.resolve("broker.token"),
                    "--capmesh.access.principals.runtime.roles=runtime",
                    "--capmesh.access.principals." + OPERATOR + ".roles=acquire",
                    "--capmesh.access.principals." + OPERATOR + ".accounts=*"));
        } else {
            args.addAll(List.of(
                    "--capmesh.access.lease-issuers=" + dir.resolve("broker-lease.pub.pem"),
                    "--capmesh.access.token-file=" + dir.resolve("runtime.token"),
                    "--capmesh.access.principals.broker.roles=deploy",
                    "--capmesh.access.principals." + OPERATOR + ".roles=deploy,keys"));
        }
        return args;
    }

    /** The channel's credentials with the operator's token on every call. */
    ChannelCredentials asOperator(ChannelCredentials channel) {
        return CompositeChannelCredentials.create(channel, BearerToken.fromFile(operatorToken()));
    }

    private KeyPair keyPair(String name) throws IOException {
        Path pair = dir.resolve(name + ".pem");
        if (Files.isRegularFile(pair)) {
            return SigningKeys.readKeyPair(Files.readString(pair));
        }
        KeyPair generated = SigningKeys.generate(SignatureAlgorithm.ECDSA_P256);
        writeOwnerOnly(pair, SigningKeys.toPem(generated));
        Files.writeString(dir.resolve(name + ".pub.pem"), SigningKeys.toPem(generated.getPublic()),
                StandardCharsets.US_ASCII);
        return generated;
    }

    private static void writeOwnerOnly(Path file, String content) throws IOException {
        Path staged = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(staged, content, StandardCharsets.US_ASCII);
        Files.move(staged, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
}
