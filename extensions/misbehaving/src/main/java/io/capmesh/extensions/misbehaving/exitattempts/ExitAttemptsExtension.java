package io.capmesh.extensions.misbehaving.exitattempts;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.terminator.Terminator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/**
 * Tries to end its runtime in every way the deploy-time scan cannot see: by reflection with the names built at run
 * time, a method handle, the JDK's internal shutdown, a bundled library's plain calls, and a swallowed refusal.
 * {@code ok} answers its payload, to show the runtime still serves.
 */
public final class ExitAttemptsExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) throws Exception {
        switch (invocation.method()) {
            case "reflection" -> {
                Class<?> runtime = Class.forName(String.join(".", "java", "lang", "Runtime"));
                Method exit = runtime.getMethod(new StringBuilder("tixe").reverse().toString(), int.class);
                exit.invoke(runtime.getMethod("getRuntime").invoke(null), 3);
            }
            case "method-handle" -> haltByHandle(4);
            case "shutdown-internals" -> {
                Method exit = Class.forName("java.lang.Shutdown").getDeclaredMethod("exit", int.class);
                exit.setAccessible(true); // runtimes open java.lang for leak diagnosis
                exit.invoke(null, 5);
            }
            case "library-exit" -> Terminator.exit(6);
            case "library-halt" -> Terminator.halt(7);
            case "swallowed" -> {
                try {
                    Terminator.exit(8);
                } catch (SecurityException refused) {
                    return "carried on".getBytes(StandardCharsets.UTF_8);
                }
            }
            case "ok" -> {
                return invocation.payload();
            }
            default -> throw CapabilityException.notFound(invocation.capability() + " has no method "
                    + invocation.method());
        }
        return "still running".getBytes(StandardCharsets.UTF_8);
    }

    private static void haltByHandle(int status) throws Exception {
        try {
            MethodHandles.publicLookup()
                    .findVirtual(Runtime.class, "halt", MethodType.methodType(void.class, int.class))
                    .invoke(Runtime.getRuntime(), status);
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable other) {
            throw new IllegalStateException(other);
        }
    }
}
