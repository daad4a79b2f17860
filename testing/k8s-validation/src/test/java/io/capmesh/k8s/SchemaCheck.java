package io.capmesh.k8s;

import io.kubernetes.client.openapi.JSON;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Optional;

/**
 * Binds a rendered object strictly to the official Kubernetes Java client model of its apiVersion and kind: a field
 * the API does not have, a required field left out or a value of the wrong type is an error. The model class is
 * named after the version and kind ({@code apps/v1} {@code Deployment}: {@code V1Deployment}).
 */
final class SchemaCheck {

    static {
        new JSON(); // sets up the models' Gson adapters (quantities, int-or-string, dates)
    }

    private SchemaCheck() {
    }

    /** The object bound to its model, or why it does not bind. */
    static Object bind(Manifests.RenderedObject object) {
        Class<?> model = model(object.apiVersion(), object.kind()).orElseThrow(() -> new IllegalArgumentException(
                object + ": no Kubernetes API model for apiVersion " + object.apiVersion() + " kind " + object.kind()));
        try {
            Method fromJson = model.getMethod("fromJson", String.class);
            return fromJson.invoke(null, object.json());
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException(object + ": " + e.getCause().getMessage(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static Optional<Class<?>> model(String apiVersion, String kind) {
        String version = apiVersion.substring(apiVersion.indexOf('/') + 1);
        String name = "io.kubernetes.client.openapi.models." + Character.toUpperCase(version.charAt(0))
                + version.substring(1) + kind;
        try {
            return Optional.of(Class.forName(name));
        } catch (ClassNotFoundException e) {
            return Optional.empty();
        }
    }
}
