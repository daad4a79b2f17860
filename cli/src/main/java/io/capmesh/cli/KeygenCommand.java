package io.capmesh.cli;

import io.capmesh.signing.SignatureAlgorithm;
import io.capmesh.signing.SigningKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "keygen", sortOptions = false,
        header = "Make a key pair for signing extension jars.",
        description = {"Make a signing key pair in DIR: NAME.pem holds the private and the public key (readable by"
                + " its owner only; give it to capmesh sign --key), NAME.pub.pem the public key alone (give it to the"
                + " runtimes in capmesh.runtime.signatures.trusted-keys)."})
final class KeygenCommand implements Callable<Integer> {

    @Mixin
    private Output output;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where to write the two files.")
    private Path dir;

    @Option(names = "--name", defaultValue = "signing-key", paramLabel = "NAME",
            description = "The files' name (default: ${DEFAULT-VALUE}).")
    private String name;

    @Option(names = "--algorithm", defaultValue = "ed25519", paramLabel = "ALGORITHM",
            description = "ed25519 or ecdsa-p256 (default: ${DEFAULT-VALUE}).")
    private String algorithm;

    @Override
    public Integer call() {
        SignatureAlgorithm chosen;
        try {
            chosen = SignatureAlgorithm.named(algorithm);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage("--algorithm: " + e.getMessage());
        }
        KeyPair pair = SigningKeys.generate(chosen);
        Path pairFile = dir.resolve(name + ".pem");
        Path publicFile = dir.resolve(name + ".pub.pem");
        for (Path file : new Path[] {pairFile, publicFile}) {
            if (Files.exists(file)) {
                throw CliFailure.usage(file + " exists; a key is never overwritten: choose another --out or --name");
            }
        }
        try {
            Files.createDirectories(dir);
            writeOwnerOnly(pairFile, SigningKeys.toPem(pair));
            Files.writeString(publicFile, SigningKeys.toPem(pair.getPublic()), StandardCharsets.US_ASCII,
                    StandardOpenOption.CREATE_NEW);
        } catch (IOException e) {
            throw CliFailure.failed("cannot write the key to " + dir + ": " + e.getMessage());
        }
        String keyId = SigningKeys.keyId(pair.getPublic());
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("keyId", keyId);
            json.put("algorithm", chosen.label());
            json.put("keyPair", pairFile.toString());
            json.put("publicKey", publicFile.toString());
            output.json(json);
        } else {
            output.say(chosen.label() + " key " + keyId);
            output.say("  sign with:  capmesh sign JAR --key " + pairFile);
            output.say("  trust with: capmesh.runtime.signatures.trusted-keys=" + publicFile);
        }
        return ExitCode.OK;
    }

    /** The private key is created unreadable by others, never made so afterwards. */
    private static void writeOwnerOnly(Path file, String content) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(file);
        }
        Files.writeString(file, content, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
    }
}
