package io.capmesh.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The settings each service jar declares, capmesh's and Spring's: Spring Boot's configuration metadata of every
 * {@code @ConfigurationProperties} record (and of the few settings read directly), in the service's own classes and
 * in every library it ships.
 */
final class ServiceSettings {

    /** One setting: its default where the metadata names one (else empty), and its Java type. */
    record Setting(String defaultValue, String type) {}

    /** {@code bin/service}'s names for the services, to their modules. */
    static final Map<String, String> SERVICES = services("broker", "broker-service",
            "core-runtime", "core-runtime-service", "data-runtime", "data-runtime-service",
            "ml-runtime", "ml-runtime-service", "crypto-runtime", "crypto-runtime-service");

    /**
     * What the configuration processor writes for the records, and what a module declares by hand for settings it
     * reads directly (the processor merges the second into the first only in a module that has records).
     */
    private static final Set<String> METADATA = Set.of("META-INF/spring-configuration-metadata.json",
            "META-INF/additional-spring-configuration-metadata.json");

    private static final Map<String, Map<String, Setting>> BY_SERVICE = new LinkedHashMap<>();

    private ServiceSettings() {}

    /** The settings of the service {@code bin/service} calls by this name, by setting. */
    static synchronized Map<String, Setting> of(String service) {
        return BY_SERVICE.computeIfAbsent(service, ServiceSettings::read);
    }

    /** The settings of every service, merged. */
    static Map<String, Setting> all() {
        Map<String, Setting> all = new TreeMap<>();
        SERVICES.keySet().forEach(service -> of(service).forEach(all::putIfAbsent));
        return all;
    }

    /** Whether the service takes {@code --name=value}: a declared setting, or a key of a map-typed one. */
    static boolean takes(String service, String name) {
        String plain = name.replaceAll("\\[\\d+]", "");
        Map<String, Setting> settings = of(service);
        return settings.containsKey(plain) || settings.entrySet().stream().anyMatch(setting ->
                setting.getValue().type().startsWith("java.util.Map") && plain.startsWith(setting.getKey() + "."));
    }

    private static Map<String, Setting> read(String service) {
        String module = SERVICES.get(service);
        Path jar = Markdown.REPOSITORY.resolve(module).resolve("target/capmesh-" + module + ".jar");
        assertThat(jar).as("the built service jar (./mvnw install first)").isRegularFile();
        Map<String, Setting> settings = new TreeMap<>();
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            for (ZipEntry entry : zip.stream().toList()) {
                // the repackaged jar keeps the service's own META-INF at its root
                if (METADATA.contains(entry.getName().replaceFirst("^BOOT-INF/classes/", ""))) {
                    declare(zip.getInputStream(entry), settings);
                } else if (entry.getName().startsWith("BOOT-INF/lib/") && entry.getName().endsWith(".jar")) {
                    ZipInputStream library = new ZipInputStream(zip.getInputStream(entry));
                    for (ZipEntry inner = library.getNextEntry(); inner != null; inner = library.getNextEntry()) {
                        if (METADATA.contains(inner.getName())) {
                            declare(library, settings);
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(jar.toString(), e);
        }
        return settings;
    }

    private static void declare(InputStream metadata, Map<String, Setting> settings) throws IOException {
        for (JsonNode property : JsonMapper.shared().readTree(metadata.readAllBytes()).path("properties")) {
            JsonNode value = property.path("defaultValue");
            String defaultValue = value.isMissingNode() || value.isNull() ? "" : value.isArray()
                    ? String.join(",", value.valueStream().map(JsonNode::asString).toList()) : value.asString();
            settings.merge(property.path("name").asString(),
                    new Setting(defaultValue, property.path("type").asString("")),
                    (a, b) -> a.defaultValue().isEmpty() ? b : a);
        }
    }

    /** In the order given, so that merging them is the same in every run. */
    private static Map<String, String> services(String... namesAndModules) {
        Map<String, String> services = new LinkedHashMap<>();
        for (int i = 0; i < namesAndModules.length; i += 2) {
            services.put(namesAndModules[i], namesAndModules[i + 1]);
        }
        return java.util.Collections.unmodifiableMap(services);
    }

    static List<String> names() {
        return List.copyOf(SERVICES.keySet());
    }
}
