package io.capmesh.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.testsupport.LocalImagesOnly;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

/**
 * What a registry and a node see of the images: layers shared from the most to the least common (so a second image
 * pulled fetches only its own), a jlink'd Java runtime rather than a whole JDK, and native libraries for the one
 * platform the images run on.
 */
class ImageLayersIT {

    private static final String TAG = System.getProperty("capmesh.images.tag", "latest");
    private static final List<String> RUNTIMES = List.of("core-runtime", "data-runtime", "ml-runtime", "crypto-runtime");

    @Test
    void everyServiceSharesTheRuntimeAndCommonLibrariesAndEveryRuntimeTheRuntimeLibrariesSoOnlyItsOwnLayersArePulled() {
        List<String> common = layers("service-libs");
        List<String> runtimeShared = layers("runtime-libs");
        assertThat(runtimeShared).as("the runtimes' libraries are a layer over the common ones")
                .startsWith(common.toArray(String[]::new)).hasSizeGreaterThan(common.size());

        assertThat(layers("broker")).startsWith(common.toArray(String[]::new));
        for (String runtime : RUNTIMES) {
            List<String> own = layers(runtime);
            assertThat(own).as(runtime).startsWith(runtimeShared.toArray(String[]::new));
            for (String other : RUNTIMES) {
                if (!other.equals(runtime)) {
                    // the layers this runtime adds are its own: none comes again with another tier's image
                    assertThat(layers(other)).as(other + " against " + runtime)
                            .doesNotContainAnyElementsOf(own.subList(runtimeShared.size(), own.size()));
                }
            }
        }

        String commonJars = run("service-libs", "ls /app/lib");
        assertThat(commonJars).as("Spring, gRPC and OpenTelemetry are common to all five")
                .contains("spring-core-", "grpc-core-", "opentelemetry-api-");
        assertThat(run("runtime-libs", "ls /app/lib")).contains("capmesh-runtime-host-");
        assertThat(commonJars).doesNotContain("capmesh-runtime-host-");
    }

    @Test
    void theJavaRuntimeIsJlinkedWithTheJavaSeApiAndNoCompilerOrDevelopmentTools() {
        String modules = run("broker", "java --list-modules");
        assertThat(modules).contains("java.se@", "java.sql@", "jdk.unsupported@", "jdk.management@")
                .doesNotContain("jdk.compiler@", "jdk.jshell@", "jdk.jlink@");
        assertThat(run("broker", "ls /opt/java/bin")).doesNotContain("javac");
    }

    @Test
    void bundledNativeLibrariesAreForLinuxX8664Only() {
        String onnx = run("ml-runtime", "unzip -l /app/lib/onnxruntime-*.jar | grep ai/onnxruntime/native/");
        assertThat(onnx).contains("native/linux-x64/libonnxruntime.so").doesNotContain("osx-", "win-", "aarch64");
        String sqlite = run("broker", "unzip -l /app/lib/sqlite-jdbc-*.jar | grep org/sqlite/native/");
        assertThat(sqlite).contains("native/Linux/x86_64/libsqlitejdbc.so")
                .doesNotContain("Mac/", "Windows/", "aarch64", "Musl");
        String netty = run("broker", "unzip -l /app/lib/grpc-netty-shaded-*.jar | grep META-INF/native/");
        assertThat(netty).contains("epoll_x86_64.so", "tcnative_linux_x86_64.so").doesNotContain("osx", "windows", "aarch_64");
    }

    private static List<String> layers(String image) {
        return Arrays.asList(DockerClientFactory.instance().client().inspectImageCmd(name(image)).exec().getRootFS()
                .getLayers().toArray(String[]::new));
    }

    /** Runs a shell command in a new container of the image and gives what it printed. */
    private static String run(String image, String command) {
        try (GenericContainer<?> container = new GenericContainer<>(DockerImageName.parse(name(image)))
                .withImagePullPolicy(new LocalImagesOnly())
                .withCreateContainerCmdModifier(create -> create.withEntrypoint("sh", "-c"))
                .withCommand(new String[] {command})
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofSeconds(60)))) {
            container.start();
            return container.getLogs();
        }
    }

    private static String name(String image) {
        return "capmesh/" + image + ":" + TAG;
    }
}
