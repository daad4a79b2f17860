package io.capmesh.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.access.Tokens;
import io.capmesh.signing.TrustedKeys;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** capmesh token, checked the way a service checks the tokens it is shown. */
class TokenCommandTest {

    @TempDir
    Path dir;

    @Test
    void aTokenNamesItsSubjectForServicesThatTrustTheKey() throws Exception {
        assertThat(Cli.run("keygen", "--out", dir.toString(), "--name", "issuer", "--algorithm", "ecdsa-p256")
                .exit()).isZero();

        Cli.Run run = Cli.run("token", "--key", dir.resolve("issuer.pem").toString(), "--subject", "ci-deployer",
                "--ttl", "10m");

        assertThat(run.exit()).as(run.toString()).isZero();
        Tokens trusting = new Tokens(TrustedKeys.read(List.of(dir.resolve("issuer.pub.pem").toString())),
                Clock.systemUTC());
        assertThat(trusting.verifyAccess(run.out().strip())).isEqualTo("ci-deployer");
    }

    @Test
    void anEd25519KeyIsRefusedWithWhatToUseInstead() {
        assertThat(Cli.run("keygen", "--out", dir.toString(), "--name", "issuer").exit()).isZero();

        Cli.Run run = Cli.run("token", "--key", dir.resolve("issuer.pem").toString(), "--subject", "ops");

        assertThat(run.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(run.err()).contains("ECDSA P-256 (ES256)", "capmesh keygen --algorithm ecdsa-p256");
    }
}
