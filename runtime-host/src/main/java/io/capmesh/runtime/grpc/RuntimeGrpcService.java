package io.capmesh.runtime.grpc;

import com.google.protobuf.ByteString;
import io.capmesh.access.CallAccess;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployRequest;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.ReleaseQuarantineRequest;
import io.capmesh.proto.v1.DescribeResponse;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.LoadRequest;
import io.capmesh.proto.v1.ListExtensionsResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.reclaim.Reclamation;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.telemetry.CapmeshAttributes;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.opentelemetry.api.trace.Span;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** The runtime's gRPC endpoint: {@code capmesh.v1.RuntimeService} over an {@link ExtensionRuntime}. */
public final class RuntimeGrpcService extends RuntimeServiceGrpc.RuntimeServiceImplBase {

    private final ExtensionRuntime runtime;
    private final Executor callPool;
    private final ScheduledExecutorService deadlines;
    private final long maxCallNanos;

    /**
     * @param callPool    where an Invoke that cannot run on the transport's thread goes
     * @param deadlines   runs the deadline timers (one thread is plenty)
     * @param maxCallTime the longest any call may run, whatever deadline the caller set
     */
    public RuntimeGrpcService(ExtensionRuntime runtime, Executor callPool, ScheduledExecutorService deadlines,
                              Duration maxCallTime) {
        this.runtime = runtime;
        this.callPool = callPool;
        this.deadlines = deadlines;
        this.maxCallNanos = maxCallTime.toNanos();
    }

    /**
     * Started on the transport's thread (see {@link CallPlacement}): a call of a method declared non-blocking runs
     * here when it need not wait; any other goes to the call pool, with the call's gRPC and tracing contexts.
     */
    @Override
    public void invoke(InvokeRequest request, StreamObserver<InvokeResponse> observer) {
        if (!runtime.mayRunInline(request.getCapability(), request.getMethod()) || !answer(request, observer, true)) {
            callPool.execute(io.opentelemetry.context.Context.current()
                    .wrap(Context.current().wrap((Runnable) () -> answer(request, observer, false))));
        }
    }

    /** Runs and answers the call; when {@code inline}, only if it can run on this thread without waiting. */
    private boolean answer(InvokeRequest request, StreamObserver<InvokeResponse> observer, boolean inline) {
        long budget = budgetNanos();
        CallDeadline deadline = new CallDeadline(budget, deadlines, () -> {
            if (inline && budget >= LoadedExtension.INLINE_CALL_LIMIT.toNanos()) { // it ran past the limit
                runtime.overranInline(request.getCapability(), request.getMethod());
            }
            observer.onError(overrun(request, budget).asRuntimeException());
        });
        InvokeResponse response = null;
        Status failure = null;
        try {
            ExtensionRuntime.Invoked invoked = invokeOnce(request, inline, System.nanoTime() + budget);
            if (invoked == null) { // it would have to wait: not here
                return !deadline.finish();
            }
            response = toResponse(invoked);
        } catch (Problem.ProblemException e) {
            failure = e.problem().toStatus();
        } catch (RuntimeException e) {
            failure = Status.INTERNAL.withDescription("the runtime failed on " + request.getCapability() + "/"
                    + request.getMethod() + ": " + e);
        }
        if (deadline.finish()) {
            if (failure != null) {
                observer.onError(failure.asRuntimeException());
            } else {
                observer.onNext(response);
                observer.onCompleted();
            }
        }
        return true;
    }

    /** Each request is answered in order; the first failure (or overrun) ends the stream with its status. */
    @Override
    public StreamObserver<InvokeRequest> invokeStream(StreamObserver<InvokeResponse> observer) {
        return new StreamObserver<>() {
            private volatile boolean ended;

            @Override
            public void onNext(InvokeRequest request) {
                if (ended) {
                    return;
                }
                long budget = budgetNanos();
                CallDeadline deadline = new CallDeadline(budget, deadlines, () -> {
                    ended = true;
                    observer.onError(overrun(request, budget).asRuntimeException());
                });
                try {
                    InvokeResponse response = toResponse(invokeOnce(request, false, System.nanoTime() + budget));
                    if (deadline.finish()) {
                        observer.onNext(response);
                    }
                } catch (Problem.ProblemException e) {
                    if (deadline.finish()) {
                        ended = true;
                        observer.onError(e.problem().toStatus().asRuntimeException());
                    }
                }
            }

            @Override
            public void onError(Throwable t) {
                // the caller went away; nothing to answer
            }

            @Override
            public void onCompleted() {
                if (!ended) {
                    observer.onCompleted();
                }
            }
        };
    }

    private Status overrun(InvokeRequest request, long budgetNanos) {
        return Status.DEADLINE_EXCEEDED.withDescription(request.getCapability() + "/" + request.getMethod()
                + " did not finish within " + TimeUnit.NANOSECONDS.toMillis(budgetNanos) + " ms (the caller's "
                + "deadline, at most " + TimeUnit.NANOSECONDS.toMillis(maxCallNanos) + " ms); it was interrupted");
    }

    /**
     * @param inline        run it only if it can run on this thread without waiting; else answer null
     * @param deadlineNanos until when the call may wait for a permit of its extension
     */
    private ExtensionRuntime.Invoked invokeOnce(InvokeRequest request, boolean inline, long deadlineNanos) {
        Span span = Span.current(); // the call's server span, when tracing is on
        span.setAttribute(CapmeshAttributes.CAPABILITY, request.getCapability());
        span.setAttribute(CapmeshAttributes.METHOD, request.getMethod());
        try {
            CallAccess.checkInvoke(request.getCapability(), request.getMethod());
        } catch (StatusRuntimeException e) {
            throw new Problem(e.getStatus().getCode(), e.getStatus().getDescription()).toException();
        }
        ExtensionRuntime.Invoked invoked = inline
                ? runtime.invokeInline(request.getCapability(), request.getMethod(), request.getPayload().toByteArray(),
                        request.getAttributesMap())
                : runtime.invoke(request.getCapability(), request.getMethod(), request.getPayload().toByteArray(),
                        request.getAttributesMap(), deadlineNanos);
        if (invoked == null) {
            return null;
        }
        span.setAttribute(CapmeshAttributes.EXTENSION, invoked.extensionId());
        span.setAttribute(CapmeshAttributes.VERSION, invoked.version());
        return invoked;
    }

    private static InvokeResponse toResponse(ExtensionRuntime.Invoked invoked) {
        return InvokeResponse.newBuilder()
                .setPayload(ByteString.copyFrom(invoked.payload()))
                .setExtensionId(invoked.extensionId())
                .setExtensionVersion(invoked.version())
                .build();
    }

    private long budgetNanos() {
        Deadline deadline = Context.current().getDeadline();
        long callerNanos = deadline == null ? Long.MAX_VALUE : deadline.timeRemaining(TimeUnit.NANOSECONDS);
        return Math.max(0, Math.min(callerNanos, maxCallNanos));
    }

    @Override
    public StreamObserver<DeployRequest> deploy(StreamObserver<DeployResponse> observer) {
        return new PackageUpload<>(observer, pkg -> {
            LoadedExtension ext = runtime.deploy(pkg);
            return DeployResponse.newBuilder().setExtension(ProtoViews.info(ext))
                    .setLoadMicros(ext.loadMicros()).setCompileMicros(pkg.compileMicros()).build();
        });
    }

    @Override
    public StreamObserver<DeployRequest> swap(StreamObserver<SwapResponse> observer) {
        return new PackageUpload<>(observer, pkg -> {
            ExtensionRuntime.Swapped swapped = runtime.swap(pkg);
            return SwapResponse.newBuilder().setCurrent(ProtoViews.info(swapped.current()))
                    .setPrevious(ProtoViews.unloaded(swapped.previous()))
                    .setSwapMicros(swapped.swapMicros()).setCompileMicros(pkg.compileMicros()).build();
        });
    }

    /** The longest an Unload waits on for a leak path, whatever it asked: an analysis times out well before. */
    private static final Duration MAX_LEAK_PATH_WAIT = Duration.ofMinutes(10);

    @Override
    public void unload(UnloadRequest request, StreamObserver<UnloadResponse> observer) {
        if (request.getExtensionId().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("extension_id is required").asRuntimeException());
            return;
        }
        if (request.getDrainTimeoutMillis() < 0 || request.getLeakPathWaitMillis() < 0) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription(request.getDrainTimeoutMillis() < 0
                    ? "drain_timeout_millis cannot be negative" : "leak_path_wait_millis cannot be negative")
                    .asRuntimeException());
            return;
        }
        answer(observer, () -> {
            Reclamation verdict = runtime.unload(request.getExtensionId(), request.getVersion(),
                    Duration.ofMillis(request.getDrainTimeoutMillis()));
            return ProtoViews.unloaded(runtime.awaitLeakPath(verdict,
                    Duration.ofMillis(Math.min(request.getLeakPathWaitMillis(), MAX_LEAK_PATH_WAIT.toMillis()))));
        });
    }

    @Override
    public void load(LoadRequest request, StreamObserver<DeployResponse> observer) {
        if (request.getExtensionId().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("extension_id is required").asRuntimeException());
            return;
        }
        answer(observer, () -> {
            LoadedExtension ext = runtime.load(request.getExtensionId());
            return DeployResponse.newBuilder().setExtension(ProtoViews.info(ext)).setLoadMicros(ext.loadMicros())
                    .build();
        });
    }

    @Override
    public void releaseQuarantine(ReleaseQuarantineRequest request, StreamObserver<DeployResponse> observer) {
        if (request.getExtensionId().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("extension_id is required").asRuntimeException());
            return;
        }
        answer(observer, () -> {
            LoadedExtension ext = runtime.release(request.getExtensionId());
            return DeployResponse.newBuilder().setExtension(ProtoViews.info(ext)).setLoadMicros(ext.loadMicros())
                    .build();
        });
    }

    @Override
    public void listExtensions(ListExtensionsRequest request, StreamObserver<ListExtensionsResponse> observer) {
        answer(observer, () -> ListExtensionsResponse.newBuilder()
                .addAllExtensions(runtime.extensions().stream().map(ProtoViews::info).toList())
                .addAllAvailable(runtime.available().stream().map(ProtoViews::available).toList())
                .addAllQuarantined(runtime.quarantined().stream().map(ProtoViews::quarantined).toList())
                .build());
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<DescribeResponse> observer) {
        answer(observer, () -> {
            String id = request.getExtensionId();
            var loaded = runtime.extension(id);
            var unloaded = runtime.unloaded(id);
            var blockedExits = runtime.blockedExits(id);
            if (loaded.isEmpty() && unloaded.isEmpty() && blockedExits.isEmpty()) {
                throw Problem.notFound("extension " + id + (runtime.isQuarantined(id) ? " is quarantined and has"
                        + " not been loaded since this runtime started; capmesh quarantine list says why"
                        : " has never been loaded in this runtime")).toException();
            }
            DescribeResponse.Builder b = DescribeResponse.newBuilder();
            loaded.ifPresent(ext -> b.setExtension(ProtoViews.info(ext)));
            unloaded.forEach(r -> b.addUnloaded(ProtoViews.unloaded(r)));
            blockedExits.forEach(exit -> b.addBlockedExits(ProtoViews.blockedExit(exit)));
            return b.build();
        });
    }

    private static <T> void answer(StreamObserver<T> observer, java.util.function.Supplier<T> work) {
        T response;
        try {
            response = work.get();
        } catch (Problem.ProblemException e) {
            observer.onError(e.problem().toStatus().asRuntimeException());
            return;
        } catch (RuntimeException e) {
            observer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    /** Collects a package from a Deploy or Swap stream (header first, then chunks), then hands it on. */
    private final class PackageUpload<R> implements StreamObserver<DeployRequest> {
        private final StreamObserver<R> observer;
        private final Function<ExtensionPackage, R> then;
        private final ByteString.Output bytes = ByteString.newOutput();
        private DeployHeader header;
        private Status failure;

        PackageUpload(StreamObserver<R> observer, Function<ExtensionPackage, R> then) {
            this.observer = observer;
            this.then = then;
        }

        @Override
        public void onNext(DeployRequest request) {
            if (failure != null) {
                return;
            }
            if (header == null) {
                if (!request.hasHeader()) {
                    failure = Status.INVALID_ARGUMENT.withDescription("the first message must be the header");
                    return;
                }
                header = request.getHeader();
                append(header.getJar());
            } else if (request.hasHeader()) {
                failure = Status.INVALID_ARGUMENT.withDescription("only the first message may be a header");
            } else {
                append(request.getChunk());
            }
        }

        private void append(ByteString chunk) {
            long limit = runtime.reader().limits().maxPackageBytes();
            if (bytes.size() + (long) chunk.size() > limit) {
                failure = Status.RESOURCE_EXHAUSTED.withDescription("the package is larger than the limit of "
                        + limit + " bytes");
                return;
            }
            try {
                chunk.writeTo(bytes);
            } catch (IOException e) {
                failure = Status.INTERNAL.withDescription(e.toString());
            }
        }

        @Override
        public void onError(Throwable t) {
            // the upload was abandoned; nothing was deployed
        }

        @Override
        public void onCompleted() {
            if (failure == null && header == null) {
                failure = Status.INVALID_ARGUMENT.withDescription("no header was sent; send a DeployHeader with "
                        + "a path or the jar's bytes");
            }
            if (failure == null && !header.getPath().isEmpty() && bytes.size() > 0) {
                failure = Status.INVALID_ARGUMENT.withDescription("give either a path or the jar's bytes, not both");
            }
            if (failure != null) {
                observer.onError(failure.asRuntimeException());
                return;
            }
            answer(observer, () -> then.apply(read()));
        }

        private ExtensionPackage read() {
            if (!header.getPath().isEmpty()) {
                return runtime.reader().read(Path.of(header.getPath()));
            }
            try {
                String name = header.getFileName().isEmpty() ? "uploaded package" : header.getFileName();
                return runtime.reader().read(bytes.toByteString().newInput(), name, header.getSha256());
            } catch (IOException e) {
                throw new Problem(Status.Code.UNAVAILABLE, "could not stage the package: " + e.getMessage())
                        .toException();
            }
        }
    }
}
