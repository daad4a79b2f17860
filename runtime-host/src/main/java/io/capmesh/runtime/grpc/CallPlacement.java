package io.capmesh.runtime.grpc;

import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.runtime.loader.ExtensionServices;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;

/**
 * Where each call to a runtime's server runs. The server's own executor is direct, so a call starts on the
 * transport's thread; every call goes on to the call pool from there, except {@code Invoke} and the typed methods
 * an extension declares non-blocking: those run where they are when they can, and hand themselves to the pool when
 * they cannot (an Invoke's request says which extension it calls; a permit may be taken). Handing a call from the
 * transport's thread to a pool and its answer back costs about a third of a loopback hop.
 */
public final class CallPlacement implements ServerCallExecutorSupplier {

    private static final String INVOKE = RuntimeServiceGrpc.getInvokeMethod().getFullMethodName();

    private final Executor callPool;
    private final ExtensionServices typed;

    public CallPlacement(Executor callPool, ExtensionServices typed) {
        this.callPool = callPool;
        this.typed = typed;
    }

    @Override
    public <Q, A> Executor getExecutor(ServerCall<Q, A> call, Metadata headers) {
        String method = call.getMethodDescriptor().getFullMethodName();
        return method.equals(INVOKE) || typed.mayRunInline(method) ? null : callPool;
    }
}
