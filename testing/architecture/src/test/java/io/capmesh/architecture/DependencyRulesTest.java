package io.capmesh.architecture;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static io.capmesh.architecture.Modules.CLASSES;
import static io.capmesh.architecture.Modules.inLayer;
import static io.capmesh.architecture.Modules.inModule;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.Dependency;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import com.tngtech.archunit.library.dependencies.SlicesRuleDefinition;
import io.capmesh.architecture.Modules.Layer;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The dependency rules of docs/architecture.md ("Dependency rules"), each test one rule, in the page's order. */
class DependencyRulesTest {

    /** What a tier lends its extensions of capmesh's own, by the extension modules that tier runs. */
    private static final Map<String, Set<String>> LENT = Map.of("extensions/crypto", Set.of("lib/crypto-keys-api"));

    @Test
    void everyModuleHasItsPlaceInTheRules() {
        assertThat(Modules.all()).as("modules with compiled classes").contains("runtime-host", "thin-stub", "lib/tls",
                "extensions/echo", "broker-service", "core-runtime-service");
        assertThat(Modules.all()).allSatisfy(module -> assertThat(Modules.layer(module))
                .as("the layer of %s (add it to Modules and to docs/architecture.md)", module).isPresent());
        // the rules know a class by the module it ships in, and see dependencies across modules
        JavaClass wiring = CLASSES.get("io.capmesh.runtime.spring.RuntimeHostAutoConfiguration");
        assertThat(Modules.moduleOf(wiring)).contains("runtime-host");
        assertThat(wiring.getDirectDependenciesFromSelf()).map(dependency -> Modules.moduleOf(dependency.getTargetClass()))
                .contains(Optional.of("lib/tls"), Optional.of("lib/access"));
        assertThat(Modules.moduleOf(CLASSES.get("io.capmesh.crypto.keys.KeyStore"))).contains("lib/crypto-keys-api");
    }

    // 1
    @Test
    void theFoundationNeverReachesUp() {
        noClasses().that(inLayer(Layer.FOUNDATION))
                .should().dependOnClassesThat(inLayer(Layer.HOST, Layer.EXTENSION, Layer.SERVICE, Layer.CLIENT))
                .check(CLASSES);
    }

    // 2
    @Test
    void theLibrariesStandAlone() {
        classes().that(inLayer(Layer.FOUNDATION))
                .should(useOfCapmeshOnly("their own module, except lib/access: proto and lib/package-signing",
                        (origin, target) -> target.equals(origin) || origin.equals("lib/access")
                                && Set.of("proto", "lib/package-signing").contains(target)))
                .check(CLASSES);
    }

    // 3
    @Test
    void theApisLentToExtensionsAreSmall() {
        classes().that(inModule("extension-api"))
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.grpc..", "io.capmesh.extension.api..")
                .because("every extension links against it, in every tier, for as long as it is deployed")
                .check(CLASSES);
        classes().that(inModule("lib/crypto-keys-api"))
                .should().onlyDependOnClassesThat().resideInAnyPackage("java..", "io.capmesh.crypto.keys..")
                .check(CLASSES);
    }

    // 4
    @Test
    void belowTheServicesSpringIsOnlyInAutoConfiguration() {
        noClasses().that(inLayer(Layer.FOUNDATION, Layer.HOST)).and().resideOutsideOfPackage("..spring..")
                .should().dependOnClassesThat().resideInAnyPackage("org.springframework..", "io.capmesh..spring..")
                .because("the engine and the libraries work without Spring; Spring wires them from *.spring packages")
                .check(CLASSES);
    }

    // 5
    @Test
    void theRuntimeHostKnowsNoExtensionServiceOrClient() {
        noClasses().that(inModule("runtime-host"))
                .should().dependOnClassesThat(inLayer(Layer.EXTENSION, Layer.SERVICE, Layer.CLIENT))
                .because("a runtime service is the host plus what it bundles; the host never names what it hosts")
                .check(CLASSES);
    }

    // 6
    @Test
    void readingAndStoringComeBeforeLoading() {
        noClasses().that().resideInAnyPackage("io.capmesh.runtime.pkg..", "io.capmesh.runtime.store..")
                .should().dependOnClassesThat().resideInAnyPackage("io.capmesh.runtime.loader..",
                        "io.capmesh.runtime.reclaim..", "io.capmesh.runtime.isolation..", "io.capmesh.runtime.grpc..",
                        "io.capmesh.runtime.broker..", "io.capmesh.runtime.spring..")
                .check(CLASSES);
    }

    // 7
    @Test
    void extensionsSeeOnlyTheExtensionApiAndSharedPackages() {
        classes().that(inLayer(Layer.EXTENSION))
                .should(useOfCapmeshOnly("the extension API, the packages their tier lends them (the crypto tier's"
                        + " lib/crypto-keys-api) and their own module", (origin, target) -> target.equals("extension-api")
                        || target.equals(origin) || LENT.getOrDefault(origin, Set.of()).contains(target)))
                .andShould().onlyDependOnClassesThat(not(resideInAPackage("org.springframework..")))
                .because("an extension's loader sees the JDK, the extension API, its tier's shared packages and its"
                        + " own jar, nothing of the host")
                .check(CLASSES);
    }

    // 8
    @Test
    void nothingOutsideAnExtensionUsesItsCodeOnlyItsContracts() {
        noClasses().that(not(inLayer(Layer.EXTENSION)))
                .should().dependOnClassesThat(inLayer(Layer.EXTENSION)
                        .and(not(resideInAPackage("io.capmesh.extensions.*.v1.."))))
                .because("extensions are deployed, swapped and unloaded; callers know only their gRPC contracts")
                .check(CLASSES);
    }

    // 9
    @Test
    void servicesDoNotDependOnEachOther() {
        classes().that(inLayer(Layer.SERVICE))
                .should(useOfCapmeshOnly("no other service's classes", (origin, target) ->
                        target.equals(origin) || Modules.layer(target).orElse(null) != Layer.SERVICE))
                .because("each service is its own process and image; what two share lives below them")
                .check(CLASSES);
    }

    // 10
    @Test
    void theBrokerIsNoRuntime() {
        noClasses().that(inModule("broker-service"))
                .should().dependOnClassesThat(inModule("runtime-host", "extension-api"))
                .because("the broker keeps the registry and the leases; it never hosts an extension")
                .check(CLASSES);
    }

    // 11
    @Test
    void runtimeServicesUseTheHostThroughItsPublicFace() {
        noClasses().that(inLayer(Layer.SERVICE))
                .should().dependOnClassesThat().resideInAnyPackage("io.capmesh.runtime.loader..",
                        "io.capmesh.runtime.reclaim..", "io.capmesh.runtime.isolation..", "io.capmesh.runtime.store..",
                        "io.capmesh.runtime.grpc..", "io.capmesh.runtime.broker..")
                .because("a runtime service only configures the host and bundles extensions")
                .check(CLASSES);
    }

    // 12
    @Test
    void clientsReachTheMeshOnlyThroughItsContracts() {
        noClasses().that(inLayer(Layer.CLIENT))
                .should().dependOnClassesThat(inLayer(Layer.HOST, Layer.SERVICE).or(inModule("extension-api")))
                .orShould().dependOnClassesThat().resideInAPackage("org.springframework..")
                .because("a thin stub, a function and the command line talk to the broker and runtimes over gRPC")
                .check(CLASSES);
        classes().that(inModule("thin-stub"))
                .should(useOfCapmeshOnly("itself, proto and lib/telemetry", (origin, target) ->
                        Set.of("thin-stub", "proto", "lib/telemetry").contains(target)))
                .because("the thin stub is a small library for any Java program")
                .check(CLASSES);
    }

    // 13
    @Test
    void modulesDependOnEachOtherWithoutCycles() {
        SlicesRuleDefinition.slices().assignedFrom(new SliceAssignment() {
            @Override
            public SliceIdentifier getIdentifierOf(JavaClass type) {
                return Modules.moduleOf(type).map(SliceIdentifier::of).orElse(SliceIdentifier.ignore());
            }

            @Override
            public String getDescription() {
                return "modules";
            }
        }).should().beFreeOfCycles().check(CLASSES);
    }

    /** A condition on each dependency into another capmesh module: allowed(origin module, target module). */
    private static ArchCondition<JavaClass> useOfCapmeshOnly(String what, ModulePair allowed) {
        return new ArchCondition<>("use of capmesh only " + what) {
            @Override
            public void check(JavaClass type, ConditionEvents events) {
                Optional<String> origin = Modules.moduleOf(type);
                for (Dependency dependency : type.getDirectDependenciesFromSelf()) {
                    Optional<String> target = Modules.moduleOf(dependency.getTargetClass());
                    if (origin.isPresent() && target.isPresent() && !allowed.test(origin.get(), target.get())) {
                        events.add(SimpleConditionEvent.violated(dependency, origin.get() + " uses " + target.get()
                                + ": " + dependency.getDescription()));
                    }
                }
            }
        };
    }

    @FunctionalInterface
    private interface ModulePair {
        boolean test(String origin, String target);
    }
}
