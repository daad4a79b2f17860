package io.capmesh.extensions.misbehaving.exitattempts;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.terminator.Terminator;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Tries to end its runtime in every way the deploy-time scan cannot see: by reflection with the names built at run
 * time, a method handle, the JDK's internal shutdown, a bundled library's plain calls, and a swallowed refusal.
 * {@code ok} answers its payload, to show the runtime still serves. Its typed service {@value #SERVICE} does the
 * same from a gRPC handler: {@code Exit} lets the refusal fly, {@code Swallow} catches it and answers.
 */
public final class ExitAttemptsExtension implements Extension {

    private static final String SERVICE = "test.exits.v1.Exits";

    @Override
    public List<ServerServiceDefinition> services() {
        return List.of(ServerServiceDefinition.builder(SERVICE)
                .addMethod(method("Exit"), handler(false))
                .addMethod(method("Swallow"), handler(true))
                .build());
    }

    private static MethodDescriptor<byte[], byte[]> method(String name) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, name))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    private static ServerCallHandler<byte[], byte[]> handler(boolean swallow) {
        return (call, headers) -> {
            call.request(1);
            return new ServerCall.Listener<>() {
                @Override
                public void onHalfClose() {
                    if (!swallow) {
                        Terminator.exit(11);
                    }
                    try {
                        Terminator.halt(12);
                    } catch (SecurityException refused) {
                        call.sendHeaders(new Metadata());
                        call.sendMessage("carried on".getBytes(StandardCharsets.UTF_8));
                        call.close(Status.OK, new Metadata());
                    }
                }
            };
        };
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

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
