package io.capmesh.k8s;

import com.google.gson.Gson;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** Renders a kustomization with {@code kubectl kustomize}, offline, and splits it into objects. */
final class Manifests {

    /** One rendered object: its identity, and its JSON for strict binding. */
    record RenderedObject(String apiVersion, String kind, String namespace, String name, String json) {
        @Override
        public String toString() {
            return kind + " " + (namespace == null ? "" : namespace + "/") + name;
        }
    }

    private static final Gson GSON = new Gson();

    private Manifests() {
    }

    static List<RenderedObject> render(Path kustomization) throws IOException, InterruptedException {
        Process kubectl;
        try {
            kubectl = new ProcessBuilder("kubectl", "kustomize", kustomization.toString()).start();
        } catch (IOException e) {
            throw new IllegalStateException("kubectl is needed to render the manifests (kubectl kustomize), and it"
                    + " is not on the PATH", e);
        }
        byte[] out = kubectl.getInputStream().readAllBytes();
        String err = new String(kubectl.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!kubectl.waitFor(60, TimeUnit.SECONDS) || kubectl.exitValue() != 0) {
            throw new IllegalStateException("kubectl kustomize " + kustomization + " failed: " + err.strip());
        }
        return parse(new String(out, StandardCharsets.UTF_8));
    }

    @SuppressWarnings("unchecked")
    static List<RenderedObject> parse(String yaml) {
        List<RenderedObject> objects = new ArrayList<>();
        for (Object document : new Yaml(new SafeConstructor(new LoaderOptions())).loadAll(yaml)) {
            if (document == null) {
                continue;
            }
            Map<String, Object> object = (Map<String, Object>) document;
            Map<String, Object> metadata = (Map<String, Object>) object.getOrDefault("metadata", Map.of());
            objects.add(new RenderedObject(String.valueOf(object.get("apiVersion")), String.valueOf(object.get("kind")),
                    (String) metadata.get("namespace"), String.valueOf(metadata.get("name")), GSON.toJson(object)));
        }
        return objects;
    }
}
