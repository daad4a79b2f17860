package io.capmesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.access.Grants;
import io.capmesh.access.Principal;
import io.capmesh.access.Role;
import io.capmesh.access.spring.AccessProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.context.config.ConfigDataEnvironmentPostProcessor;
import org.springframework.boot.context.config.ConfigDataLocationNotFoundException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/**
 * The prod access policy means what it says: bound by Spring Boot into the services' own {@link AccessProperties},
 * it grants each service's certificate, the example thin stub and the operator exactly what they need. Then each
 * service's configuration is loaded the way the service loads it (its own application.yaml, the policy directory
 * from {@code SPRING_CONFIG_ADDITIONALLOCATION}, its environment on top), so the mount, the location and the crypto
 * runtime's own method roles are checked together.
 */
class AccessPolicyTest {

    private static final Path REPOSITORY = OverlaysTest.K8S.toAbsolutePath().normalize().getParent();
    private static final String POLICY_MOUNT = "/etc/capmesh/access/";

    static List<Object> prod;
    static String policy;

    @BeforeAll
    static void render() throws Exception {
        prod = OverlaysTest.bind("prod");
        policy = OverlaysTest.accessPolicy(prod);
    }

    @Test
    void theBrokersCertificateMayDeployOnRuntimesAndNothingElse() {
        Grants grants = policyAlone().grants();
        Principal broker = mtls(AccessSettings.principalOf("broker"));

        assertThat(grants.has(broker, Role.DEPLOY)).isTrue();
        assertThat(grants.has(broker, Role.RUNTIME)).isFalse();
        assertThat(grants.has(broker, Role.ACQUIRE)).isFalse();
        assertThat(grants.has(broker, Role.KEYS)).isFalse();
    }

    @Test
    void eachRuntimesCertificateMayJoinTheMeshAndNothingElse() {
        Grants grants = policyAlone().grants();
        for (String tier : OverlaysTest.TIERS.subList(1, OverlaysTest.TIERS.size())) {
            Principal runtime = mtls(AccessSettings.principalOf(tier));
            assertThat(grants.has(runtime, Role.RUNTIME)).as(runtime.name()).isTrue();
            assertThat(grants.has(runtime, Role.DEPLOY)).as(runtime.name()).isFalse();
            assertThat(grants.has(runtime, Role.ACQUIRE)).as(runtime.name()).isFalse();
        }
    }

    @Test
    void theExampleClientTakesLeasesForItsAccountOnly() {
        Grants grants = policyAlone().grants();
        Principal client = mtls("capmesh client");

        assertThat(grants.has(client, Role.ACQUIRE)).isTrue();
        assertThat(grants.mayActFor(client, "example-account")).isTrue();
        assertThat(grants.mayActFor(client, "someone-else")).isFalse();
        assertThat(grants.has(client, Role.DEPLOY)).isFalse();
    }

    @Test
    void theOperatorTokenMayDeployAndManageKeysWithALeaseOfItsOwn() {
        Grants grants = policyAlone().grants();
        Principal ops = new Principal("ops", "token");

        assertThat(grants.has(ops, Role.DEPLOY)).isTrue();
        assertThat(grants.has(ops, Role.KEYS)).isTrue();
        assertThat(grants.mayActFor(ops, "ops")).isTrue();
        assertThat(grants.has(ops, Role.RUNTIME)).isFalse();
    }

    @Test
    void everyPrincipalKeepsItsNameAsWritten() {
        // a bare key "capmesh broker" would bind as "capmeshbroker", granting a name no certificate has
        assertThat(policyAlone().principals()).containsOnlyKeys("capmesh broker", "capmesh core-runtime",
                "capmesh data-runtime", "capmesh ml-runtime", "capmesh crypto-runtime", "capmesh client", "ops");
    }

    @Test
    void theBinderCatchesTheMistakesThisTestIsFor() {
        String unbracketed = policy.replace("\"[capmesh broker]\":", "capmesh broker:");
        assertThat(bind(unbracketed).grants().has(mtls("capmesh broker"), Role.DEPLOY)).isFalse();

        String misspelled = policy.replaceFirst("roles: \\[deploy]", "roles: [deplyo]");
        assertThatThrownBy(() -> bind(misspelled))
                .isInstanceOf(org.springframework.boot.context.properties.bind.BindException.class);
    }

    static List<String> tiers() {
        return OverlaysTest.TIERS;
    }

    @ParameterizedTest
    @MethodSource("tiers")
    void eachServiceLoadsThePolicyFromItsMountOnTopOfItsOwnConfiguration(String tier, @TempDir Path mount)
            throws Exception {
        Files.writeString(mount.resolve("application.yaml"), policy);
        AccessProperties access = load(tier, mount);

        assertThat(access.mode()).isEqualTo(AccessProperties.Mode.REQUIRED);
        assertThat(access.tokenIssuers()).containsExactly("/etc/capmesh/token-issuers");
        assertThat(access.grants().has(mtls(AccessSettings.principalOf("broker")), Role.DEPLOY)).isTrue();
        assertThat(access.grants().has(mtls(AccessSettings.principalOf("core-runtime")), Role.RUNTIME)).isTrue();
        if (tier.equals("broker")) {
            assertThat(access.leaseIssuers()).isEmpty();
        } else {
            assertThat(access.leaseIssuers()).containsExactly("/etc/capmesh/lease-issuers");
        }
        if (tier.equals("crypto-runtime")) {
            // its own application.yaml says which key-management methods need the keys role; the policy adds none
            assertThat(access.methodRoles()).containsEntry("crypto.keys/generate", Role.KEYS)
                    .containsEntry("crypto.keys/import", Role.KEYS).containsEntry("crypto.keys/delete", Role.KEYS)
                    .containsEntry("capmesh.crypto.v1.Keys/Generate", Role.KEYS)
                    .containsEntry("capmesh.crypto.v1.Keys/Import", Role.KEYS)
                    .containsEntry("capmesh.crypto.v1.Keys/Delete", Role.KEYS).hasSize(6);
        } else {
            assertThat(access.methodRoles()).as(tier).isEmpty();
        }
    }

    @Test
    void aServiceWithoutThePolicyMountedDoesNotStart(@TempDir Path nowhere) {
        assertThatThrownBy(() -> load("core-runtime", nowhere.resolve("not-mounted")))
                .isInstanceOf(ConfigDataLocationNotFoundException.class);
    }

    private static AccessProperties policyAlone() {
        return bind(policy);
    }

    private static AccessProperties bind(String yaml) {
        return new Binder(ConfigurationPropertySources.from(AccessSettings.load("application.yaml", yaml)))
                .bindOrCreate("capmesh.access", AccessProperties.class);
    }

    /**
     * The tier's {@code capmesh.access.*} as its process in prod would have them: the environment its container is
     * given (the policy mount moved to {@code mount}), with the tier's own application.yaml standing for the one in
     * its jar.
     */
    private static AccessProperties load(String tier, Path mount) {
        Map<String, Object> environment = new HashMap<>(ProjectRules.settings(OverlaysTest.container(prod, tier),
                OverlaysTest.configMaps(prod)));
        String location = (String) environment.get("SPRING_CONFIG_ADDITIONALLOCATION");
        assertThat(location).as(tier).contains(POLICY_MOUNT);
        environment.put("SPRING_CONFIG_ADDITIONALLOCATION", location.replace(POLICY_MOUNT,
                mount.toAbsolutePath() + "/"));
        Path own = REPOSITORY.resolve(tier.equals("broker") ? "broker-service" : tier + "-service")
                .resolve("src/main/resources/application.yaml");
        assertThat(own).as(tier + "'s own configuration").isRegularFile();
        environment.put("SPRING_CONFIG_LOCATION", "file:" + own);

        StandardEnvironment spring = new StandardEnvironment();
        spring.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        environment));
        spring.getPropertySources().remove(StandardEnvironment.SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME);
        ConfigDataEnvironmentPostProcessor.applyTo(spring);
        List<String> loaded = new ArrayList<>();
        spring.getPropertySources().forEach(source -> loaded.add(source.getName()));
        assertThat(loaded).as(tier + " reads the policy file").anyMatch(name -> name.contains(mount.toString()));
        return Binder.get(spring).bindOrCreate("capmesh.access", AccessProperties.class);
    }

    private static Principal mtls(String name) {
        return new Principal(name, "mtls");
    }
}
