package io.capmesh.tls.spring;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A CA for tests, and the certificates it signs (ECDSA P-256, for 127.0.0.1), written as PEM files. */
final class TestCa {

    /** A certificate and its key. */
    record Issued(X509Certificate certificate, KeyPair keys) {

        BigInteger serial() {
            return certificate.getSerialNumber();
        }

        String certificatePem() {
            return pem(certificate);
        }

        String keyPem() {
            try {
                return pem(new JcaPKCS8Generator(keys.getPrivate(), null).generate());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private final Issued ca;

    TestCa(String name) throws GeneralSecurityException {
        KeyPair keys = keys();
        X500Name subject = new X500Name("CN=" + name);
        try {
            ca = new Issued(sign(builder(subject, subject, keys)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0)), keys), keys);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    Issued authority() {
        return ca;
    }

    /** A certificate for TLS server and client, for 127.0.0.1 and localhost. */
    Issued issue(String name) throws GeneralSecurityException {
        KeyPair keys = keys();
        try {
            X509v3CertificateBuilder builder = builder(
                    X500Name.getInstance(ca.certificate().getSubjectX500Principal().getEncoded()),
                    new X500Name("CN=" + name), keys)
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                            new GeneralName(GeneralName.iPAddress, "127.0.0.1"),
                            new GeneralName(GeneralName.dNSName, "localhost")}));
            return new Issued(sign(builder, ca.keys()), keys);
        } catch (IOException e) {
            throw new GeneralSecurityException(e);
        }
    }

    /** Writes {@code tls.crt}, {@code tls.key} and {@code ca.crt} into {@code dir}, as a Kubernetes TLS Secret has. */
    void write(Issued issued, Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tls.crt"), issued.certificatePem());
        Files.writeString(dir.resolve("tls.key"), issued.keyPem());
        Files.writeString(dir.resolve("ca.crt"), ca.certificatePem());
    }

    private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair keys) {
        Instant now = Instant.now();
        return new JcaX509v3CertificateBuilder(issuer, new BigInteger(127, RANDOM).add(BigInteger.ONE),
                Date.from(now.minus(Duration.ofMinutes(1))), Date.from(now.plus(Duration.ofDays(1))), subject,
                keys.getPublic());
    }

    private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair issuer)
            throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(
                    builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate())));
        } catch (org.bouncycastle.operator.OperatorCreationException e) {
            throw new GeneralSecurityException(e);
        }
    }

    private static KeyPair keys() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
        return generator.generateKeyPair();
    }

    private static String pem(Object object) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(text)) {
            writer.writeObject(object);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
