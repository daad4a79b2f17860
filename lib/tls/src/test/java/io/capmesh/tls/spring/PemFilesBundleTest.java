package io.capmesh.tls.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemFilesBundleTest {

    @TempDir
    Path dir;

    @Test
    void aRenewalIsTakenOnlyOnceItsCertificateAndKeyBelongTogether() throws Exception {
        TestCa ca = new TestCa("test CA");
        TestCa.Issued a = ca.issue("service A");
        TestCa.Issued b = ca.issue("service B");
        ca.write(a, dir);
        try (PemFilesBundle files = PemFilesBundle.open(dir.resolve("tls.crt"), dir.resolve("tls.key"),
                dir.resolve("ca.crt"), Duration.ZERO)) {
            assertThat(files.certificate().getSerialNumber()).isEqualTo(a.serial());

            Files.writeString(dir.resolve("tls.crt"), b.certificatePem()); // the key is not written yet
            assertThat(files.refresh()).isFalse();
            assertThat(files.certificate().getSerialNumber()).isEqualTo(a.serial());

            Files.writeString(dir.resolve("tls.key"), b.keyPem());
            assertThat(files.refresh()).isTrue();
            assertThat(files.certificate().getSerialNumber()).isEqualTo(b.serial());
            assertThat(files.refresh()).as("unchanged files").isFalse();
        }
    }

    @Test
    void aServiceWhoseFilesCannotBeReadDoesNotStart() throws Exception {
        TestCa ca = new TestCa("test CA");
        ca.write(ca.issue("service"), dir);
        Files.delete(dir.resolve("tls.key"));
        assertThatThrownBy(() -> PemFilesBundle.open(dir.resolve("tls.crt"), dir.resolve("tls.key"),
                dir.resolve("ca.crt"), Duration.ZERO))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(dir.resolve("tls.key").toString());
    }
}
