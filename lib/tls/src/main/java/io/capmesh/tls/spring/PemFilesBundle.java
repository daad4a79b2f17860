package io.capmesh.tls.spring;

import static java.nio.charset.StandardCharsets.US_ASCII;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.KeyManagerFactorySpi;
import javax.net.ssl.ManagerFactoryParameters;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslManagerBundle;
import org.springframework.boot.ssl.SslStoreBundle;
import org.springframework.boot.ssl.pem.PemContent;

/**
 * A service's TLS identity and the CA it trusts, read from PEM files (a Kubernetes TLS Secret mounted as a volume:
 * {@code tls.crt}, {@code tls.key}, {@code ca.crt}) and read again every refresh period, as a Spring Boot
 * {@link SslBundle}.
 *
 * <p>Spring gRPC's server and grpc-java's channels take a bundle's key and trust managers once, when they start, so
 * Spring Boot's {@code reload-on-update} (which swaps the bundle in the registry) never reaches them. These managers
 * are grpc-java's {@link AdvancedTlsX509KeyManager} and {@link AdvancedTlsX509TrustManager}, whose material is
 * swapped in place: every new handshake, as server or as client, uses what the files hold now, and connections
 * already established keep the session they negotiated.
 *
 * <p>New files are taken only whole: a certificate with the key that belongs to it, and a CA that parses. Anything
 * else (a renewal half written) keeps the previous material and is tried again at the next refresh.
 */
public final class PemFilesBundle implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(PemFilesBundle.class.getName());

    private final Path certificateFile;
    private final Path privateKeyFile;
    private final Path caFile;
    private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
    private final AdvancedTlsX509TrustManager trustManager;
    private final ScheduledExecutorService refresher;
    private List<byte[]> loaded = List.of();
    private volatile X509Certificate certificate;

    private PemFilesBundle(Path certificateFile, Path privateKeyFile, Path caFile, Duration refreshPeriod) {
        this.certificateFile = certificateFile;
        this.privateKeyFile = privateKeyFile;
        this.caFile = caFile;
        try {
            // The peer's certificate must chain to the CA; a client also checks the server's name (grpc-java sets
            // the endpoint identification on the engine it hands to this manager).
            this.trustManager = AdvancedTlsX509TrustManager.newBuilder()
                    .setVerification(AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
                    .build();
            load();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            throw new IllegalStateException("cannot take the TLS " + this + ": " + e, e);
        }
        if (refreshPeriod.isZero() || refreshPeriod.isNegative()) {
            refresher = null;
        } else {
            refresher = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "capmesh-tls-refresh");
                thread.setDaemon(true);
                return thread;
            });
            long millis = refreshPeriod.toMillis();
            refresher.scheduleWithFixedDelay(this::refresh, millis, millis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Reads the files now and checks them again every {@code refreshPeriod} (zero: never again).
     *
     * @throws IllegalStateException when the files cannot be read, or the key is not the certificate's
     */
    public static PemFilesBundle open(Path certificate, Path privateKey, Path ca, Duration refreshPeriod) {
        return new PemFilesBundle(certificate, privateKey, ca, refreshPeriod);
    }

    /** The bundle whose managers follow the files; register it once and hand it to servers and channels. */
    public SslBundle bundle() {
        return SslBundle.of(SslStoreBundle.NONE, null, null, null,
                SslManagerBundle.of(keyManagerFactory(keyManager), SslManagerBundle.from(trustManager)
                        .getTrustManagerFactory()));
    }

    /** The certificate new handshakes present. */
    public X509Certificate certificate() {
        return certificate;
    }

    /**
     * Takes the files' content when it changed and is whole; keeps the previous material otherwise.
     *
     * @return whether new material is now in use
     */
    public synchronized boolean refresh() {
        try {
            return load();
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "TLS: cannot take " + this + "; still serving serial "
                    + certificate.getSerialNumber().toString(16) + ": " + e);
            return false;
        }
    }

    private synchronized boolean load() throws IOException, GeneralSecurityException {
        List<byte[]> content = List.of(Files.readAllBytes(certificateFile), Files.readAllBytes(privateKeyFile),
                Files.readAllBytes(caFile));
        if (same(content, loaded)) {
            return false;
        }
        List<X509Certificate> chain = PemContent.of(new String(content.get(0), US_ASCII)).getCertificates();
        PrivateKey key = PemContent.of(new String(content.get(1), US_ASCII)).getPrivateKey();
        List<X509Certificate> cas = PemContent.of(new String(content.get(2), US_ASCII)).getCertificates();
        if (chain.isEmpty() || key == null || cas.isEmpty()) {
            throw new GeneralSecurityException("a file holds no " + (chain.isEmpty() ? "certificate"
                    : key == null ? "private key" : "CA certificate"));
        }
        checkPair(chain.get(0), key);
        trustManager.updateTrustCredentials(cas.toArray(X509Certificate[]::new));
        keyManager.updateIdentityCredentials(chain.toArray(X509Certificate[]::new), key);
        loaded = content;
        certificate = chain.get(0);
        LOG.log(System.Logger.Level.INFO, "TLS: serving {0} (serial {1}, valid until {2}) from {3}",
                certificate.getSubjectX500Principal().getName(), certificate.getSerialNumber().toString(16),
                certificate.getNotAfter().toInstant(), certificateFile);
        return true;
    }

    @Override
    public void close() {
        if (refresher != null) {
            refresher.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "certificate " + certificateFile + ", private key " + privateKeyFile + ", CA " + caFile;
    }

    private static boolean same(List<byte[]> a, List<byte[]> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i), b.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** A renewal caught between writing the certificate and the key must not be served: sign with one, verify. */
    private static void checkPair(X509Certificate certificate, PrivateKey key) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null; // another kind of key: the handshake is the check
        };
        if (algorithm == null) {
            return;
        }
        byte[] probe = "capmesh key check".getBytes(US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        verifier.initVerify(certificate.getPublicKey());
        verifier.update(probe);
        if (!verifier.verify(signature)) {
            throw new GeneralSecurityException("the private key is not the one of the certificate (serial "
                    + certificate.getSerialNumber().toString(16) + ")");
        }
    }

    /** A factory that hands out the one key manager: what Spring gRPC's server asks a bundle for. */
    private static KeyManagerFactory keyManagerFactory(KeyManager manager) {
        KeyManagerFactorySpi spi = new KeyManagerFactorySpi() {
            @Override
            protected void engineInit(KeyStore keyStore, char[] password) {
            }

            @Override
            protected void engineInit(ManagerFactoryParameters parameters) {
            }

            @Override
            protected KeyManager[] engineGetKeyManagers() {
                return new KeyManager[] {manager};
            }
        };
        return new KeyManagerFactory(spi, null, "capmesh-pem-files") {
        };
    }
}
