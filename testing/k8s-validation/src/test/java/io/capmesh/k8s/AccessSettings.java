package io.capmesh.k8s;

import io.capmesh.access.spring.AccessProperties;
import io.kubernetes.client.openapi.models.V1Container;
import io.kubernetes.client.openapi.models.V1KeyToPath;
import io.kubernetes.client.openapi.models.V1Volume;
import io.kubernetes.client.openapi.models.V1VolumeMount;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.boot.env.PropertiesPropertySourceLoader;
import org.springframework.boot.env.PropertySourceLoader;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.core.io.ByteArrayResource;

/**
 * A container's {@code capmesh.access.*} as its service will bind them: its environment (relaxed, as Spring Boot
 * reads environment variables), then the configuration files that {@code SPRING_CONFIG_ADDITIONALLOCATION} or
 * {@code SPRING_CONFIG_IMPORT} point at, read from the ConfigMaps mounted there. Binding with Spring Boot's own
 * {@link Binder} into the services' {@link AccessProperties} catches what reading the YAML by hand would not: a
 * misspelled key or role, or a principal name whose space or dot Spring drops unless it is in brackets.
 */
final class AccessSettings {

    static final String MODE = "CAPMESH_ACCESS_MODE";
    static final String LEASE_ISSUERS = "CAPMESH_ACCESS_LEASEISSUERS";
    static final String LEASE_SIGNING_KEY = "CAPMESH_BROKER_LEASESIGNINGKEY";
    static final List<String> CONFIG_LOCATIONS = List.of("SPRING_CONFIG_ADDITIONALLOCATION", "SPRING_CONFIG_IMPORT");

    /** What Spring Boot looks for in a directory location ({@code spring.config.name} is {@code application}). */
    private static final List<String> DIRECTORY_FILES = List.of("application.properties", "application.yaml",
            "application.yml");

    /**
     * @param properties the bound settings; empty when they do not bind
     * @param problems   configuration files not found in the pod's ConfigMaps or unreadable, settings that do not
     *                   bind
     */
    record Bound(Optional<AccessProperties> properties, List<String> problems) {
    }

    private AccessSettings() {
    }

    static boolean required(Map<String, String> settings) {
        return "required".equalsIgnoreCase(settings.getOrDefault(MODE, "").strip());
    }

    /**
     * The principal name of a capmesh service's certificate: its common name, {@code capmesh <service>}, as
     * {@code capmesh certs} makes it and the cert-manager example in k8s/README.md sets it.
     */
    static String principalOf(String service) {
        return "capmesh " + service;
    }

    static Bound bind(ProjectRules.Workload workload, V1Container container, Map<String, String> settings,
                      Map<String, Map<String, String>> configMaps) {
        List<PropertySource<?>> sources = new ArrayList<>();
        sources.add(new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new LinkedHashMap<>(settings)));
        List<String> problems = new ArrayList<>();
        for (String setting : CONFIG_LOCATIONS) {
            for (String location : settings.getOrDefault(setting, "").split(",")) {
                String trimmed = location.strip();
                if (trimmed.isEmpty()) {
                    continue;
                }
                boolean optional = trimmed.startsWith("optional:");
                String path = optional ? trimmed.substring("optional:".length()) : trimmed;
                if (!path.startsWith("file:")) {
                    continue; // classpath: the image's own configuration
                }
                Map<String, String> files = files(workload, container, path.substring("file:".length()), configMaps);
                if (files.isEmpty() && !optional) {
                    problems.add(setting + " (" + trimmed + ") names no configuration file in a ConfigMap volume"
                            + " mounted read-only");
                }
                files.forEach((name, content) -> {
                    try {
                        sources.addAll(load(name, content));
                    } catch (RuntimeException e) {
                        problems.add(name + " from " + setting + " is not valid: " + e.getMessage());
                    }
                });
            }
        }
        Binder binder = new Binder(ConfigurationPropertySources.from(sources));
        try {
            return new Bound(Optional.of(binder.bindOrCreate("capmesh.access", AccessProperties.class)), problems);
        } catch (BindException e) {
            Throwable cause = e;
            while (cause.getCause() != null) {
                cause = cause.getCause();
            }
            problems.add(e.getMessage() + " (" + cause.getMessage() + ")");
            return new Bound(Optional.empty(), problems);
        }
    }

    /**
     * The configuration files at {@code path} in the container, by name: from a ConfigMap volume mounted read-only
     * there (a directory location ends with a slash); empty when none is.
     */
    private static Map<String, String> files(ProjectRules.Workload workload, V1Container container, String path,
                                             Map<String, Map<String, String>> configMaps) {
        Map<String, String> files = new LinkedHashMap<>();
        for (V1VolumeMount mount : container.getVolumeMounts() == null ? List.<V1VolumeMount>of()
                : container.getVolumeMounts()) {
            String root = mount.getMountPath().replaceAll("/*$", "/");
            if (!path.startsWith(root) || !Boolean.TRUE.equals(mount.getReadOnly()) || mount.getSubPath() != null) {
                continue;
            }
            Optional<V1Volume> volume = workload.template().getSpec().getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName()) && v.getConfigMap() != null).findFirst();
            if (volume.isEmpty()) {
                continue;
            }
            Map<String, String> data = configMaps.getOrDefault(volume.get().getConfigMap().getName(), Map.of());
            Map<String, String> byPath = new LinkedHashMap<>();
            List<V1KeyToPath> items = volume.get().getConfigMap().getItems();
            if (items == null || items.isEmpty()) {
                byPath.putAll(data);
            } else {
                items.stream().filter(item -> data.containsKey(item.getKey()))
                        .forEach(item -> byPath.put(item.getPath(), data.get(item.getKey())));
            }
            String relative = path.substring(root.length());
            if (relative.isEmpty() || relative.endsWith("/")) {
                DIRECTORY_FILES.stream().filter(name -> byPath.containsKey(relative + name))
                        .forEach(name -> files.put(relative + name, byPath.get(relative + name)));
            } else if (byPath.containsKey(relative)) {
                files.put(relative, byPath.get(relative));
            }
        }
        return files;
    }

    /** A configuration file as Spring Boot reads it, under its name. */
    static List<PropertySource<?>> load(String name, String content) {
        PropertySourceLoader loader = name.endsWith(".properties") ? new PropertiesPropertySourceLoader()
                : new YamlPropertySourceLoader();
        try {
            return loader.load(name, new ByteArrayResource(content.getBytes(StandardCharsets.UTF_8), name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
