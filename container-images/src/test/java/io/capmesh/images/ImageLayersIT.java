package io.capmesh.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.capmesh.testsupport.LocalImagesOnly;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
    private static final List<String> RUNTIMES =
            List.of("core-runtime", "data-runtime", "ml-runtime", "crypto-runtime");

    @Test
    void everyServiceSharesTheRuntimeAndCommonLibrariesAndEveryRuntimeTheRuntimeLibrariesSoOnlyItsOwnLayersArePulled() {
        List<String> common = layers("service-libs");
        List<String> runtimeShared = layers("runtime-libs");
        assertThat(runtimeShared).as("the runtimes' libraries are a layer over the common ones")
                .startsWith(common.toArray(String[]::new)).hasSizeGreaterThan(common.size());
        assertThat(layers("broker")).startsWith(common.toArray(String[]::new));
        for (String runtime : RUNTIMES) {
            assertThat(layers(runtime)).as(runtime).startsWith(runtimeShared.toArray(String[]::new));
        }

        Set<String> commonJars = jars("service-libs");
        assertThat(commonJars).as("Spring, gRPC and OpenTelemetry are common to all five")
                .anyMatch(jar -> jar.startsWith("spring-core-")).anyMatch(jar -> jar.startsWith("grpc-core-"))
                .anyMatch(jar -> jar.startsWith("opentelemetry-api-"))
                .noneMatch(jar -> jar.startsWith("capmesh-runtime-host-"));
        Set<String> runtimeJars = jars("runtime-libs");
        assertThat(runtimeJars).anyMatch(jar -> jar.startsWith("capmesh-runtime-host-"))
                .containsAll(commonJars);
        assertThat(jars("broker")).containsAll(commonJars);
        // what a runtime's image adds over the shared layers is its tier's own: no jar of it comes with another
        // tier's image too, where it would be pulled twice
        Map<String, Set<String>> own = new LinkedHashMap<>();
        for (String runtime : RUNTIMES) {
            Set<String> added = new TreeSet<>(jars(runtime));
            assertThat(added).as(runtime).containsAll(runtimeJars);
            added.removeAll(runtimeJars);
            own.put(runtime, added);
        }
        for (String runtime : RUNTIMES) {
            for (String other : RUNTIMES) {
                if (!other.equals(runtime)) {
                    Set<String> both = new TreeSet<>(own.get(runtime));
                    both.retainAll(own.get(other));
                    assertThat(both).as(runtime + "'s own jars, also in " + other).isEmpty();
                }
            }
        }
        assertThat(own.get("ml-runtime")).anyMatch(jar -> jar.startsWith("onnxruntime-"));
    }

    @Test
    void theJavaRuntimeIsJlinkedWithTheJavaSeApiAndNoCompilerOrDevelopmentTools() {
        String modules = run("broker", "java --list-modules");
        assertThat(modules).contains("java.se@", "java.sql@", "jdk.unsupported@", "jdk.management@")
                .doesNotContain("jdk.compiler@", "jdk.jshell@", "jdk.jlink@");
        assertThat(run("broker", "ls /opt/java/bin")).doesNotContain("javac");
        assertThat(run("broker", "java -XshowSettings:properties -version 2>&1"))
                .as("file names and the console in UTF-8").contains("sun.jnu.encoding = UTF-8");
        // the desktop's libraries (X11, sound, splash screen, fonts) are not for a headless service
        assertThat(run("broker", "for lib in $(find /opt/java/lib -name '*.so' | grep -Ev "
                + "'awt_xawt|jawt|jsound|splashscreen|fontmanager'); do "
                + "LD_LIBRARY_PATH=/opt/java/lib:/opt/java/lib/server /lib64/ld-linux-x86-64.so.2 --list $lib "
                + "| grep 'not found' | sed \"s|^|$lib: |\"; done"))
                .as("native libraries of the Java runtime whose dependencies are missing").isBlank();
    }

    @Test
    void bundledNativeLibrariesAreForLinuxX8664Only() {
        String onnx = run("ml-runtime", "unzip -l /app/lib/onnxruntime-*.jar | grep ai/onnxruntime/native/");
        assertThat(onnx).contains("native/linux-x64/libonnxruntime.so").doesNotContain("osx-", "win-", "aarch64");
        String sqlite = run("broker", "unzip -l /app/lib/sqlite-jdbc-*.jar | grep org/sqlite/native/");
        assertThat(sqlite).contains("native/Linux/x86_64/libsqlitejdbc.so")
                .doesNotContain("Mac/", "Windows/", "aarch64", "Musl");
        String netty = run("broker", "unzip -l /app/lib/grpc-netty-shaded-*.jar | grep META-INF/native/");
        assertThat(netty).contains("epoll_x86_64.so", "tcnative_linux_x86_64.so")
                .doesNotContain("osx", "windows", "aarch_64");
    }

    @Test
    void everyImageStartsFromACacheThatNamesTheJavaThatMadeIt() {
        for (String service : List.of("broker", "core-runtime", "data-runtime", "ml-runtime", "crypto-runtime")) {
            String made = run(service, "cat /app/start.properties").strip();
            // the build writes the runtime's version quoted, as a JDK's own release file has it
            String java = run(service, "sed -n 's/^JAVA_RUNTIME_VERSION=\"\\(.*\\)\"$/\\1/p' /opt/java/release")
                    .strip();
            assertThat(java).as(service + "'s Java names its build").isNotBlank();
            assertThat(made).as(service).isEqualTo("java.version=" + java);
        }
    }

    private static List<String> layers(String image) {
        return Arrays.asList(DockerClientFactory.instance().client().inspectImageCmd(name(image)).exec().getRootFS()
                .getLayers().toArray(String[]::new));
    }

    private static Set<String> jars(String image) {
        return new TreeSet<>(run(image, "ls /app/lib").lines().filter(line -> line.endsWith(".jar")).toList());
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
