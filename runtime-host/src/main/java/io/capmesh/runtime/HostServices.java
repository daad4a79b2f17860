package io.capmesh.runtime;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What a runtime's host lends its extensions through {@code ExtensionContext.hostService}: tier resources that
 * must outlive any one extension version (connection pools, model sessions, key stores). Register them before
 * the runtime starts. Their types must resolve from the host in every extension (the JDK or the tier's shared
 * packages), or the extension would see a different class of the same name.
 */
public final class HostServices {

    private record Key(Class<?> type, String name) {
    }

    private final Map<Key, Object> services = new ConcurrentHashMap<>();

    public <T> HostServices register(Class<T> type, String name, T service) {
        services.put(new Key(type, name), type.cast(service));
        return this;
    }

    public <T> Optional<T> find(Class<T> type, String name) {
        return Optional.ofNullable(services.get(new Key(type, name))).map(type::cast);
    }
}
