package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.signing.PackageContents;
import io.capmesh.signing.PackageSignature;
import io.capmesh.signing.PackageVerifier;
import io.capmesh.signing.PackageVerifier.Reason;
import io.capmesh.signing.PackageVerifier.Refused;
import io.capmesh.signing.PackageVerifier.Unchecked;
import io.capmesh.signing.PackageVerifier.Verdict;
import io.capmesh.signing.PackageVerifier.Verified;
import io.capmesh.signing.SignaturePolicy;
import io.capmesh.signing.TrustedKeys;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** capmesh keygen and capmesh sign, checked the way a runtime checks what they make. */
class SigningCommandsTest {

    @TempDir
    Path dir;

    @Test
    void keygenWritesAPrivateKeyPairAndItsPublicKey() throws Exception {
        Cli.Run run = Cli.run("keygen", "--out", dir.resolve("keys").toString());

        assertThat(run.exit()).as(run.toString()).isZero();
        Path pair = dir.resolve("keys/signing-key.pem");
        Path publicKey = dir.resolve("keys/signing-key.pub.pem");
        assertThat(Files.readString(pair)).contains("-----BEGIN PRIVATE KEY-----", "-----BEGIN PUBLIC KEY-----");
        assertThat(Files.readString(publicKey)).contains("-----BEGIN PUBLIC KEY-----").doesNotContain("PRIVATE");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pair))).isEqualTo("rw-------");
        String keyId = TrustedKeys.read(List.of(publicKey.toString())).ids().get(0);
        assertThat(run.out()).contains("Ed25519 key " + keyId, "capmesh sign JAR --key " + pair,
                "capmesh.runtime.signatures.trusted-keys=" + publicKey);
    }

    @Test
    void keygenNeverOverwritesAKey() {
        assertThat(Cli.run("keygen", "--out", dir.toString()).exit()).isZero();

        Cli.Run again = Cli.run("keygen", "--out", dir.toString());

        assertThat(again.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(again.err()).contains("signing-key.pem exists; a key is never overwritten");
    }

    @ParameterizedTest
    @EnumSource(names = {"ED25519", "ECDSA_P256"}, value = io.capmesh.signing.SignatureAlgorithm.class)
    void aSignedJarVerifiesWithThePublicKey(io.capmesh.signing.SignatureAlgorithm algorithm) throws Exception {
        Path key = keygen("release", algorithm.name().toLowerCase().replace('_', '-'));
        Path jar = jar();

        Cli.Run run = Cli.run("sign", jar.toString(), "--key", key.toString(),
                "--out", dir.resolve("signed.jar").toString());

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("signed " + dir.resolve("signed.jar") + " with " + algorithm.label() + " key");
        assertThat(verify(dir.resolve("signed.jar"), SignaturePolicy.REQUIRED, "release"))
                .isInstanceOf(Verified.class);
        assertThat(entries(jar)).doesNotContainKey(PackageSignature.PATH);
    }

    @Test
    void signingInPlaceReplacesTheJar() throws Exception {
        Path key = keygen("release", "ed25519");
        Path jar = jar();

        Cli.Run run = Cli.run("sign", jar.toString(), "--key", key.toString(), "--json");

        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("\"jar\": \"" + jar + "\"", "\"algorithm\": \"Ed25519\"");
        assertThat(verify(jar, SignaturePolicy.REQUIRED, "release")).isInstanceOf(Verified.class);
    }

    @Test
    void anEntryAlteredAfterSigningIsNamed() throws Exception {
        Path key = keygen("release", "ed25519");
        Path jar = jar();
        assertThat(Cli.run("sign", jar.toString(), "--key", key.toString()).exit()).isZero();
        Map<String, byte[]> entries = entries(jar);
        entries.put("io/capmesh/demo/Demo.class", "patched".getBytes(StandardCharsets.UTF_8));
        write(jar, entries);

        assertThat(verify(jar, SignaturePolicy.REQUIRED, "release")).isInstanceOfSatisfying(Refused.class, refused -> {
            assertThat(refused.reason()).isEqualTo(Reason.TAMPERED);
            assertThat(refused.message()).contains("entry io/capmesh/demo/Demo.class was altered");
        });
    }

    @Test
    void aJarSignedWithAnotherKeyIsNotTrusted() throws Exception {
        keygen("release", "ed25519");
        Path other = keygen("laptop", "ecdsa-p256");
        Path jar = jar();
        assertThat(Cli.run("sign", jar.toString(), "--key", other.toString()).exit()).isZero();

        assertThat(verify(jar, SignaturePolicy.VERIFY_IF_SIGNED, "release"))
                .isInstanceOfSatisfying(Refused.class, refused -> {
                    assertThat(refused.reason()).isEqualTo(Reason.UNTRUSTED_KEY);
                    assertThat(refused.message()).contains("does not trust");
                });
    }

    @ParameterizedTest
    @EnumSource(SignaturePolicy.class)
    void anUnsignedJarUnderEachPolicy(SignaturePolicy policy) throws Exception {
        keygen("release", "ed25519");

        Verdict verdict = verify(jar(), policy, "release");

        if (policy == SignaturePolicy.REQUIRED) {
            assertThat(verdict).isInstanceOfSatisfying(Refused.class,
                    refused -> assertThat(refused.reason()).isEqualTo(Reason.UNSIGNED));
        } else {
            assertThat(verdict).isInstanceOf(Unchecked.class);
        }
    }

    @Test
    void badKeysAndJarsAreBadUsageWithWhatToDo() throws Exception {
        Path jar = jar();
        keygen("release", "ed25519");

        Cli.Run noKey = Cli.run("sign", jar.toString(), "--key", dir.resolve("none.pem").toString());
        Cli.Run publicOnly = Cli.run("sign", jar.toString(), "--key", dir.resolve("release.pub.pem").toString());
        Files.writeString(dir.resolve("notes.jar"), "not a jar");
        Cli.Run notAJar = Cli.run("sign", dir.resolve("notes.jar").toString(), "--key",
                dir.resolve("release.pem").toString());
        Cli.Run badAlgorithm = Cli.run("keygen", "--out", dir.toString(), "--algorithm", "rsa");

        assertThat(List.of(noKey, publicOnly, notAJar, badAlgorithm)).allSatisfy(
                run -> assertThat(run.exit()).as(run.toString()).isEqualTo(ExitCode.USAGE));
        assertThat(noKey.err()).contains("no key file at", "capmesh keygen");
        assertThat(publicOnly.err()).contains("no PRIVATE KEY block");
        assertThat(notAJar.err()).contains("notes.jar cannot be signed");
        assertThat(badAlgorithm.err()).contains("unknown signature algorithm 'rsa'");
    }

    @Test
    void bothCommandsDocumentTheirExitCodes() {
        for (String command : new String[] {"sign", "keygen"}) {
            Cli.Run help = Cli.run(command, "--help");
            assertThat(help.exit()).as(command).isZero();
            assertThat(help.out()).as(command).contains("Exit codes:");
        }
    }

    private Path keygen(String name, String algorithm) {
        Cli.Run run = Cli.run("keygen", "--out", dir.toString(), "--name", name, "--algorithm", algorithm);
        assertThat(run.exit()).as(run.toString()).isZero();
        return dir.resolve(name + ".pem");
    }

    private Path jar() throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n".getBytes(StandardCharsets.UTF_8));
        entries.put("META-INF/capmesh/extension.json", "{\"id\": \"demo\"}".getBytes(StandardCharsets.UTF_8));
        entries.put("io/capmesh/demo/Demo.class", new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE});
        Path jar = dir.resolve("demo.jar");
        write(jar, entries);
        return jar;
    }

    /** What a runtime decides, reading the jar entry by entry as it does. */
    private Verdict verify(Path jar, SignaturePolicy policy, String trustedKeyName) throws IOException {
        PackageContents contents = new PackageContents();
        entries(jar).forEach((name, bytes) -> {
            if (name.equals(PackageSignature.PATH)) {
                contents.signature(bytes);
            } else {
                contents.add(name, PackageContents.newDigest().digest(bytes));
            }
        });
        TrustedKeys trusted = TrustedKeys.read(List.of(dir.resolve(trustedKeyName + ".pub.pem").toString()));
        return new PackageVerifier(policy, trusted).verify(contents);
    }

    private static Map<String, byte[]> entries(Path jar) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(Files.readAllBytes(jar)))) {
            for (ZipEntry entry; (entry = in.getNextEntry()) != null; ) {
                entries.put(entry.getName(), in.readAllBytes());
            }
        }
        return entries;
    }

    private static void write(Path jar, Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        Files.write(jar, out.toByteArray());
    }
}
