package io.capmesh.runtime.loader;

import com.google.common.util.concurrent.MoreExecutors;
import io.capmesh.access.CallAccess;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.telemetry.CapmeshAttributes;
import io.grpc.Context;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Span;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The typed gRPC services of the loaded extensions, as the server's fallback registry (so reflection lists
 * them). Each call to one runs like an {@code Invoke}: pinned to one version from the moment the method is
 * looked up (its message types are that version's), so a swap or unload waits for it and a swap fails none;
 * run with that version's classloader as the context loader; and counted.
 */
public final class ExtensionServices extends HandlerRegistry {

    private record Mounted(LoadedExtension owner, ServerServiceDefinition definition) {
    }

    private final ConcurrentMap<String, Mounted> byName = new ConcurrentHashMap<>();

    /** Mounts the version's services, replacing services of the same name (a swap never leaves a gap). */
    public void mount(LoadedExtension ext) {
        for (ServerServiceDefinition service : ext.live().services()) {
            byName.put(service.getServiceDescriptor().getName(), new Mounted(ext, service));
        }
    }

    /** Removes the services this version still owns (those a successor took over stay). */
    public void unmount(LoadedExtension ext) {
        byName.values().removeIf(mounted -> mounted.owner() == ext);
    }

    @Override
    public List<ServerServiceDefinition> getServices() {
        return byName.values().stream().map(Mounted::definition).toList();
    }

    /** Pins the version serving the method for this one call and returns the method bound to that pin. */
    @Override
    public ServerMethodDefinition<?, ?> lookupMethod(String methodName, String authority) {
        String service = MethodDescriptor.extractFullServiceName(methodName);
        for (;;) {
            Mounted mounted = service == null ? null : byName.get(service);
            ServerMethodDefinition<?, ?> method = mounted == null ? null : mounted.definition().getMethod(methodName);
            if (method == null) {
                return null;
            }
            if (mounted.owner().tryPin()) {
                return pinned(method, new Pin(mounted.owner()));
            }
            // retired between the read and the pin: it was unmounted first, so the next read sees its successor
        }
    }

    private static <Q, A> ServerMethodDefinition<Q, A> pinned(ServerMethodDefinition<Q, A> method, Pin pin) {
        // if the call is cancelled before it starts, nothing else would give the pin back
        Context.current().addListener(context -> pin.release(), MoreExecutors.directExecutor());
        return ServerMethodDefinition.create(method.getMethodDescriptor(),
                (call, headers) -> pin.start(call, headers, method.getServerCallHandler()));
    }

    /** One call's pin on one version: released exactly once, when the call ends or never starts. */
    private static final class Pin {
        private final LoadedExtension ext;
        private final AtomicBoolean released = new AtomicBoolean();

        Pin(LoadedExtension ext) {
            this.ext = ext;
        }

        void release() {
            if (released.compareAndSet(false, true)) {
                ext.unpin();
            }
        }

        <Q, A> ServerCall.Listener<Q> start(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
            Span.current() // the call's server span, when tracing is on: which version served it
                    .setAttribute(CapmeshAttributes.EXTENSION, ext.manifest().id())
                    .setAttribute(CapmeshAttributes.VERSION, ext.manifest().version());
            try {
                CallAccess.checkTyped(call.getMethodDescriptor().getFullMethodName(),
                        ext.manifest().capabilities().stream().map(ExtensionManifest.Capability::name).toList());
            } catch (StatusRuntimeException e) {
                release();
                call.close(e.getStatus(), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            ClassLoader loader = ext.live().contextLoader();
            ServerCall<Q, A> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void close(Status status, Metadata trailers) {
                    ext.recordCall(!status.isOk());
                    super.close(status, trailers);
                }
            };
            ServerCall.Listener<Q> listener;
            try {
                listener = withLoader(loader, () -> next.startCall(counted, headers));
            } catch (RuntimeException | Error e) {
                release();
                throw e;
            }
            return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
                @Override
                public void onMessage(Q message) {
                    withLoader(loader, () -> super.onMessage(message));
                }

                @Override
                public void onHalfClose() {
                    withLoader(loader, super::onHalfClose);
                }

                @Override
                public void onReady() {
                    withLoader(loader, super::onReady);
                }

                @Override
                public void onCancel() {
                    try {
                        withLoader(loader, super::onCancel);
                    } finally {
                        release();
                    }
                }

                @Override
                public void onComplete() {
                    try {
                        withLoader(loader, super::onComplete);
                    } finally {
                        release();
                    }
                }
            };
        }
    }

    private static <T> T withLoader(ClassLoader loader, Supplier<T> work) {
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        thread.setContextClassLoader(loader);
        try {
            return work.get();
        } finally {
            thread.setContextClassLoader(previous);
        }
    }

    private static void withLoader(ClassLoader loader, Runnable work) {
        withLoader(loader, () -> {
            work.run();
            return null;
        });
    }
}
