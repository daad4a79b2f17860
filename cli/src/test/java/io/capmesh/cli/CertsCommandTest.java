package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code capmesh certs}: a CA and, signed by it, certificates that chain to it with the names asked for. */
class CertsCommandTest {

    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final int DNS = 2;
    private static final int IP = 7;

    @TempDir
    Path dir;

    @Test
    void everyCertificateChainsToTheCaWithTheNamesAskedFor() throws Exception {
        Cli.Run run = Cli.run("certs", "--out", dir.toString(), "--hosts", "127.0.0.1,localhost,mesh.example.test");
        assertThat(run.exit()).as(run.toString()).isZero();
        assertThat(run.out()).contains("ca.pem", "broker.pem", "crypto-runtime-key.pem", "client.pem",
                "capmesh up --tls " + dir);

        X509Certificate ca = certificate(dir.resolve("ca.pem"));
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        ca.verify(ca.getPublicKey());
        for (String service : List.of("broker", "core-runtime", "data-runtime", "ml-runtime", "crypto-runtime")) {
            X509Certificate certificate = certificate(dir.resolve(service + ".pem"));
            validate(certificate, ca);
            assertThat(certificate.getBasicConstraints()).isEqualTo(-1);
            assertThat(certificate.getExtendedKeyUsage()).contains(SERVER_AUTH, CLIENT_AUTH);
            assertThat(certificate.getSubjectAlternativeNames()).containsExactlyInAnyOrder(
                    List.of(IP, "127.0.0.1"), List.of(DNS, "localhost"), List.of(DNS, "mesh.example.test"),
                    List.of(DNS, service));
            assertMatches(privateKey(dir.resolve(service + "-key.pem")), certificate);
        }
        X509Certificate client = certificate(dir.resolve("client.pem"));
        validate(client, ca);
        assertThat(client.getExtendedKeyUsage()).containsExactly(CLIENT_AUTH);
        assertThat(client.getSubjectAlternativeNames()).isNull();
        assertMatches(privateKey(dir.resolve("client-key.pem")), client);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("client-key.pem"))))
                .isEqualTo("rw-------");
    }

    @Test
    void existingCertificatesAreReplacedOnlyWithForce() throws Exception {
        assertThat(Cli.run("certs", "--out", dir.toString()).exit()).isZero();
        String ca = Files.readString(dir.resolve("ca.pem"));

        Cli.Run again = Cli.run("certs", "--out", dir.toString());
        assertThat(again.exit()).as(again.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(again.err()).contains("exist", "--force");
        assertThat(Files.readString(dir.resolve("ca.pem"))).isEqualTo(ca);

        Cli.Run forced = Cli.run("certs", "--out", dir.toString(), "--force", "--json");
        assertThat(forced.exit()).as(forced.toString()).isZero();
        assertThat(forced.out()).contains("\"certificates\"", "\"client\"");
        assertThat(Files.readString(dir.resolve("ca.pem"))).isNotEqualTo(ca);
        validate(certificate(dir.resolve("broker.pem")), certificate(dir.resolve("ca.pem")));
    }

    /** The JDK's own PKIX validation, with the CA as the only trust anchor. */
    private static void validate(X509Certificate certificate, X509Certificate ca) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        PKIXParameters parameters = new PKIXParameters(Set.of(new TrustAnchor(ca, null)));
        parameters.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(factory.generateCertPath(List.of(certificate)), parameters);
    }

    private static void assertMatches(PrivateKey key, X509Certificate certificate) throws Exception {
        byte[] message = "capmesh".getBytes();
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(message);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance("SHA256withECDSA");
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(message);
        assertThat(verifier.verify(signature)).isTrue();
    }

    private static X509Certificate certificate(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    /** Read as PKCS#8 with the JDK alone: what Netty and Spring Boot expect. */
    private static PrivateKey privateKey(Path pem) throws Exception {
        String text = Files.readString(pem);
        assertThat(text).startsWith("-----BEGIN PRIVATE KEY-----");
        String base64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }
}
