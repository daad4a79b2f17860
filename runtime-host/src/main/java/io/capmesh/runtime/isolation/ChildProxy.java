package io.capmesh.runtime.isolation;

import com.google.protobuf.ByteString;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.TimeUnit;

/**
 * Stands in for an isolated extension inside the runtime: each invocation is a call to the child JVM's
 * {@code Invoke}, made in the caller's gRPC context so its deadline and cancellation reach the child; closing it
 * stops the child. Failures are thrown as problems with the status the caller gets.
 */
final class ChildProxy implements Extension {

    private final ChildSupervisor supervisor;
    private final long maxCallNanos;

    ChildProxy(ChildSupervisor supervisor, long maxCallNanos) {
        this.supervisor = supervisor;
        this.maxCallNanos = maxCallNanos;
    }

    ChildSupervisor supervisor() {
        return supervisor;
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        Child child = supervisor.serving();
        try {
            return RuntimeServiceGrpc.newBlockingStub(child.channel())
                    .withDeadlineAfter(maxCallNanos, TimeUnit.NANOSECONDS) // the caller's, when sooner, wins
                    .invoke(InvokeRequest.newBuilder()
                            .setCapability(invocation.capability())
                            .setMethod(invocation.method())
                            .setPayload(ByteString.copyFrom(invocation.payload()))
                            .putAllAttributes(invocation.attributes())
                            .build())
                    .getPayload().toByteArray();
        } catch (StatusRuntimeException e) {
            throw supervisor.explain(child, e.getStatus(), e.getTrailers(),
                    invocation.capability() + "/" + invocation.method()).toException();
        }
    }

    @Override
    public void close() {
        supervisor.stop();
    }
}
