package io.capmesh.proto.client;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployRequest;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** Sends an extension package to a runtime's Deploy or Swap stream: a header, then the jar in chunks. */
public final class PackageUpload {

    private static final int CHUNK = 1 << 20;

    private PackageUpload() {
    }

    public static DeployResponse deploy(RuntimeServiceGrpc.RuntimeServiceStub stub, DeployHeader header, byte[] jar,
                                        Duration timeout) {
        return send(stub::deploy, header, jar, timeout);
    }

    public static SwapResponse swap(RuntimeServiceGrpc.RuntimeServiceStub stub, DeployHeader header, byte[] jar,
                                    Duration timeout) {
        return send(stub::swap, header, jar, timeout);
    }

    /** @throws StatusRuntimeException with the runtime's answer when it refused the package */
    static <R> R send(Function<StreamObserver<R>, StreamObserver<DeployRequest>> call, DeployHeader header,
                      byte[] jar, Duration timeout) {
        CompletableFuture<R> result = new CompletableFuture<>();
        StreamObserver<DeployRequest> requests = call.apply(Completion.of(result));
        requests.onNext(DeployRequest.newBuilder().setHeader(header).build());
        for (int at = 0; at < jar.length; at += CHUNK) {
            requests.onNext(DeployRequest.newBuilder()
                    .setChunk(ByteString.copyFrom(jar, at, Math.min(CHUNK, jar.length - at))).build());
        }
        requests.onCompleted();
        try {
            return result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the runtime did not answer within " + timeout, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the runtime", e);
        }
    }
}
