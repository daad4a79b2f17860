package io.capmesh.runtime.grpc;

import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallExecutorSupplier;
import java.util.concurrent.Executor;

/**
 * Where each call to a runtime's server runs. The server's own executor is direct, so a call starts on the
 * transport's thread; every call goes on to the call pool from there, except {@code Invoke}, which runs a call
 * declared non-blocking where it is and hands any other to the pool itself (only its request says which it is).
 * Handing a call from the transport's thread to a pool and its answer back costs about a third of a loopback hop.
 */
public final class CallPlacement implements ServerCallExecutorSupplier {

    private static final String INVOKE = RuntimeServiceGrpc.getInvokeMethod().getFullMethodName();

    private final Executor callPool;

    public CallPlacement(Executor callPool) {
        this.callPool = callPool;
    }

    @Override
    public <Q, A> Executor getExecutor(ServerCall<Q, A> call, Metadata headers) {
        return call.getMethodDescriptor().getFullMethodName().equals(INVOKE) ? null : callPool;
    }
}
