package io.capmesh.cli;

import io.capmesh.access.TokenIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "token", sortOptions = false,
        header = "Make a bearer token that names a principal.",
        description = {"Sign a bearer token (ES256) for SUBJECT with an ECDSA P-256 key pair from"
                + " `capmesh keygen --algorithm ecdsa-p256`. Services that trust the public key"
                + " (capmesh.access.token-issuers) take the caller to be SUBJECT and grant it what"
                + " capmesh.access.principals.SUBJECT says. Give it to commands with --token-file or"
                + " CAPMESH_TOKEN_FILE, and to services with capmesh.access.token-file."})
final class TokenCommand implements Callable<Integer> {

    @Mixin
    private Output output;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The issuer's key pair file.")
    private Path key;

    @Option(names = "--subject", required = true, paramLabel = "SUBJECT",
            description = "The principal the token names, e.g. ops or ci-deployer.")
    private String subject;

    @Option(names = "--ttl", paramLabel = "DURATION", defaultValue = "12h", converter = Durations.class,
            description = "How long the token is valid (default: ${DEFAULT-VALUE}).")
    private Duration ttl;

    @Override
    public Integer call() {
        if (subject.isBlank()) {
            throw CliFailure.usage("--subject must name a principal");
        }
        TokenIssuer issuer;
        try {
            issuer = TokenIssuer.fromPem(Files.readString(key), Clock.systemUTC());
        } catch (IOException e) {
            throw CliFailure.usage("cannot read --key " + key + ": " + e.getMessage());
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage("--key " + key + ": " + e.getMessage());
        }
        String token = issuer.accessToken(subject, ttl);
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("subject", subject);
            json.put("keyId", issuer.keyId());
            json.put("expiresIn", ttl.toString());
            json.put("token", token);
            output.json(json);
        } else {
            output.say(token);
        }
        return ExitCode.OK;
    }
}
