package io.capmesh.runtime.loader;

import com.google.common.util.concurrent.MoreExecutors;
import io.capmesh.access.CallAccess;
import io.capmesh.runtime.ExitContainment;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.runtime.reclaim.RenewableExecutor;
import io.capmesh.telemetry.CapmeshAttributes;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.HandlerRegistry;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Span;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The typed gRPC services of the loaded extensions, as the server's fallback registry (so reflection lists
 * them). Each call to one runs like an {@code Invoke}: pinned to one version from the moment the method is
 * looked up (its message types are that version's), so a swap or unload waits for it and a swap fails none;
 * holding one of that version's call permits while it runs (waiting in its queue, within the call's deadline,
 * when all are taken); run with that version's classloader as the context loader; and counted.
 */
public final class ExtensionServices extends HandlerRegistry {

    private record Mounted(LoadedExtension owner, ServerServiceDefinition definition) {
    }

    private final ConcurrentMap<String, Mounted> byName = new ConcurrentHashMap<>();
    private final long maxCallNanos;
    private final RenewableExecutor callPool;
    private volatile Predicate<String> asleep = service -> false;
    private volatile Predicate<String> wake = service -> false;

    /** For a server whose calls all run on a pool: no call starts on a transport thread. */
    public ExtensionServices() {
        this(Duration.ofSeconds(30), null);
    }

    /**
     * @param maxCallTime the longest a call may wait for a permit, whatever deadline its caller set
     * @param callPool    where calls that may block run; a call on any other thread is on a transport thread
     *                    (see {@code CallPlacement}), and runs there only if its method is declared non-blocking and
     *                    a permit is free; null when every call runs on a pool
     */
    public ExtensionServices(Duration maxCallTime, RenewableExecutor callPool) {
        this.maxCallNanos = maxCallTime.toNanos();
        this.callPool = callPool;
    }

    /** True when the version serving the typed method now declares it non-blocking (a hint: see Pin#start). */
    public boolean mayRunInline(String fullMethodName) {
        String service = MethodDescriptor.extractFullServiceName(fullMethodName);
        Mounted mounted = service == null ? null : byName.get(service);
        return mounted != null && mounted.owner().runsInlineTyped(fullMethodName);
    }

    /**
     * How to reach the services of hibernated extensions: {@code asleep} tells whether one serves a service that is
     * not mounted, {@code wake} reloads it (true when the service is mounted now).
     */
    public void whenAsleep(Predicate<String> asleep, Predicate<String> wake) {
        this.asleep = asleep;
        this.wake = wake;
    }

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
                // a lookup runs on the transport's thread, where nothing may load classes: the call wakes it later
                return mounted == null && service != null && asleep.test(service) ? waking(methodName, service) : null;
            }
            if (mounted.owner().tryPin()) {
                return pinned(method, new Pin(mounted.owner()));
            }
            // retired between the read and the pin: it was unmounted first, so the next read sees its successor
        }
    }

    /**
     * A stand-in for a method of a hibernated extension, in bytes since its message classes are not loaded: the
     * call (on the call pool, like every typed call) wakes the extension, then goes on as a call to the real method.
     */
    private ServerMethodDefinition<byte[], byte[]> waking(String methodName, String service) {
        MethodDescriptor<byte[], byte[]> bytes = MethodDescriptor.newBuilder(BYTES, BYTES)
                .setFullMethodName(methodName).setType(MethodDescriptor.MethodType.UNKNOWN).build();
        return ServerMethodDefinition.create(bytes, (call, headers) -> {
            ServerMethodDefinition<?, ?> method;
            try {
                method = wake.test(service) ? lookupMethod(methodName, null) : null;
            } catch (Problem.ProblemException e) {
                call.close(e.problem().toStatus(), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            if (method == null || method.getMethodDescriptor().getType() == MethodDescriptor.MethodType.UNKNOWN) {
                call.close(Status.UNIMPLEMENTED.withDescription(methodName + " is not served here: its extension "
                        + "was unloaded while it woke"), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            ServerServiceDefinition real = ServerServiceDefinition.builder(service).addMethod(method).build();
            @SuppressWarnings("unchecked")
            ServerCallHandler<byte[], byte[]> handler = (ServerCallHandler<byte[], byte[]>) ServerInterceptors
                    .useMarshalledMessages(real, BYTES).getMethod(methodName).getServerCallHandler();
            return handler.startCall(call, headers);
        });
    }

    /** Messages as their bytes, for methods whose message classes are not at hand. */
    public static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw Status.INTERNAL.withDescription("cannot read a message: " + e).withCause(e).asRuntimeException();
            }
        }
    };

    private <Q, A> ServerMethodDefinition<Q, A> pinned(ServerMethodDefinition<Q, A> method, Pin pin) {
        // if the call is cancelled before it starts, nothing else would give the pin back
        Context.current().addListener(context -> pin.release(), MoreExecutors.directExecutor());
        return ServerMethodDefinition.create(method.getMethodDescriptor(),
                (call, headers) -> pin.start(call, headers, method.getServerCallHandler()));
    }

    /** One call's pin on one version, and its permit once admitted: released once, when the call ends or never runs. */
    private final class Pin {
        private static final int PINNED = 0;
        private static final int ADMITTED = 1;
        private static final int RELEASED = 2;

        private final LoadedExtension ext;
        private final AtomicInteger state = new AtomicInteger(PINNED);
        /** When a call on the transport's thread started (it is timed against the limit), else 0. */
        private volatile long inlineSince;
        private volatile String inlineMethod;

        Pin(LoadedExtension ext) {
            this.ext = ext;
        }

        void release() {
            int before = state.getAndSet(RELEASED);
            if (before == ADMITTED) {
                ext.releasePermit();
                long since = inlineSince;
                if (since != 0) {
                    ext.ranInline(inlineMethod, System.nanoTime() - since);
                }
            }
            if (before != RELEASED) {
                ext.unpin();
            }
        }

        /** Takes a permit for the call, waiting within its deadline; null when admitted, else why not. */
        private Status admit() {
            long start = 0;
            LoadedExtension.Admission admission = LoadedExtension.Admission.ADMITTED;
            if (!ext.tryAcquirePermit()) { // the clock and the deadline are read only by a call that has to wait
                start = System.nanoTime();
                Deadline deadline = Context.current().getDeadline();
                long budget = Math.min(maxCallNanos,
                        deadline == null ? Long.MAX_VALUE : deadline.timeRemaining(TimeUnit.NANOSECONDS));
                try {
                    admission = ext.awaitPermit(start + Math.max(0, budget));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    admission = LoadedExtension.Admission.TIMED_OUT;
                }
            }
            return admission == LoadedExtension.Admission.ADMITTED ? admitted()
                    : ext.refusal(admission, System.nanoTime() - start).toStatus();
        }

        /** The call holds a permit now; null, unless it ended (cancelled) meanwhile. */
        private Status admitted() {
            if (state.compareAndSet(PINNED, ADMITTED)) {
                return null;
            }
            ext.releasePermit();
            return Status.CANCELLED.withDescription("the call was cancelled while it waited for a permit");
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
            String method = call.getMethodDescriptor().getFullMethodName();
            if (callPool == null || callPool.owns(Thread.currentThread())) {
                return run(admit(), call, headers, next);
            }
            // on the transport's thread: only a non-blocking call that need not wait runs here
            if (ext.runsInlineTyped(method) && ext.tryAcquirePermit()) {
                inlineMethod = method;
                inlineSince = System.nanoTime();
                return run(admitted(), call, headers, next);
            }
            return onPool(call, () -> run(admit(), call, headers, next));
        }

        /** Starts the call once admitted ({@code refused} null), else answers it with why not. */
        private <Q, A> ServerCall.Listener<Q> run(Status refused, ServerCall<Q, A> call, Metadata headers,
                                                  ServerCallHandler<Q, A> next) {
            if (refused != null) {
                release();
                call.close(refused, new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            ClassLoader loader = ext.live().contextLoader();
            long exitsRefused = ExitContainment.mark();
            ServerCall<Q, A> counted = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                private boolean closed; // by the handler, or for it when its code asked for an exit

                @Override
                public synchronized void close(Status status, Metadata trailers) {
                    if (closed) {
                        return;
                    }
                    closed = true;
                    Problem exitRefused = status.isOk() ? ExitContainment.refusedSince(exitsRefused) : null;
                    Status answer = exitRefused != null ? exitRefused.toStatus() : status; // even if it swallowed it
                    ext.recordCall(!answer.isOk());
                    super.close(answer, trailers);
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
                    contained(() -> withLoader(loader, () -> super.onMessage(message)));
                }

                @Override
                public void onHalfClose() {
                    contained(() -> withLoader(loader, super::onHalfClose));
                }

                /** A refused exit fails the call FAILED_PRECONDITION, as Invoke does, not UNKNOWN. */
                private void contained(Runnable callback) {
                    try {
                        callback.run();
                    } catch (RuntimeException e) {
                        var refusal = ExitContainment.refusal(e);
                        if (refusal == null) {
                            throw e;
                        }
                        counted.close(Problem.precondition(refusal.getMessage()).toStatus(), new Metadata());
                    }
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

    /**
     * Moves a call from the transport's thread to the call pool: {@code start} and then each callback run there, one
     * at a time and in order, with the call's gRPC and tracing contexts.
     */
    private <Q> ServerCall.Listener<Q> onPool(ServerCall<Q, ?> call, Supplier<ServerCall.Listener<Q>> start) {
        Executor serial = MoreExecutors.newSequentialExecutor(callPool);
        Deferred<Q> deferred = new Deferred<>(serial);
        deferred.later(() -> {
            try {
                deferred.delegate = start.get();
            } catch (RuntimeException | Error e) { // as the server does for a handler that throws on its own thread
                deferred.delegate = new ServerCall.Listener<>() {
                };
                call.close(Status.fromThrowable(e), new Metadata());
            }
        });
        return deferred;
    }

    /** The callbacks of a call moved to the call pool; the first task sets the listener the later ones call. */
    private static final class Deferred<Q> extends ServerCall.Listener<Q> {
        private final Executor serial;
        private ServerCall.Listener<Q> delegate; // written and read only by tasks of the sequential executor

        Deferred(Executor serial) {
            this.serial = serial;
        }

        void later(Runnable task) {
            serial.execute(Context.current().wrap(io.opentelemetry.context.Context.current().wrap(task)));
        }

        @Override
        public void onMessage(Q message) {
            later(() -> delegate.onMessage(message));
        }

        @Override
        public void onHalfClose() {
            later(() -> delegate.onHalfClose());
        }

        @Override
        public void onCancel() {
            later(() -> delegate.onCancel());
        }

        @Override
        public void onComplete() {
            later(() -> delegate.onComplete());
        }

        @Override
        public void onReady() {
            later(() -> delegate.onReady());
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
