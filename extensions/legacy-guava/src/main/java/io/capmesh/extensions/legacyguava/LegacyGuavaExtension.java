package io.capmesh.extensions.legacyguava;

import com.google.common.collect.ImmutableList;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.security.CodeSource;

/**
 * {@code whoami} reports which Guava this extension sees, as UTF-8 JSON:
 * {@code {"guavaLocation": ..., "guavaLoader": ..., "hasToImmutableList": ...}}. The bundled Guava 20 has no
 * {@code ImmutableList.toImmutableList} (added in 21), so {@code false} proves the host's newer Guava did not
 * leak in. Built by hand so the extension depends on nothing but Guava.
 */
public final class LegacyGuavaExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("whoami")) {
            return whoami().getBytes(StandardCharsets.UTF_8);
        }
        throw CapabilityException.notFound("test.legacy-guava has no method " + invocation.method());
    }

    private static String whoami() {
        Class<?> type = ImmutableList.class;
        CodeSource source = type.getProtectionDomain().getCodeSource();
        String location = source == null || source.getLocation() == null ? null : source.getLocation().toString();
        return "{\"guavaLocation\": " + quote(location)
                + ", \"guavaLoader\": " + quote(String.valueOf(type.getClassLoader()))
                + ", \"hasToImmutableList\": " + hasPublicStatic(type, "toImmutableList") + "}";
    }

    private static boolean hasPublicStatic(Class<?> type, String name) {
        for (Method method : type.getDeclaredMethods()) {
            int modifiers = method.getModifiers();
            if (method.getName().equals(name) && Modifier.isPublic(modifiers) && Modifier.isStatic(modifiers)) {
                return true;
            }
        }
        return false;
    }

    private static String quote(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder json = new StringBuilder(text.length() + 2).append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) {
                        json.append(String.format("\\u%04x", (int) c));
                    } else {
                        json.append(c);
                    }
                }
            }
        }
        return json.append('"').toString();
    }
}
