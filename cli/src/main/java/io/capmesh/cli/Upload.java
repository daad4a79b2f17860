package io.capmesh.cli;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployRequest;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/** Streams a jar to a runtime's Deploy or Swap: a header (file name, sha256), then the bytes in 1 MB chunks. */
final class Upload {

    private static final int CHUNK = 1 << 20;

    private Upload() {
    }

    /** @throws StatusRuntimeException with the runtime's answer when it refused the package */
    static <R> R send(Function<StreamObserver<R>, StreamObserver<DeployRequest>> call, ExtensionJar jar,
                      Duration timeout) {
        CompletableFuture<R> result = new CompletableFuture<>();
        StreamObserver<DeployRequest> requests = call.apply(new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.complete(null);
            }
        });
        byte[] bytes = jar.bytes();
        requests.onNext(DeployRequest.newBuilder().setHeader(DeployHeader.newBuilder().setFileName(jar.fileName())
                .setSha256(sha256(bytes))).build());
        for (int at = 0; at < bytes.length; at += CHUNK) {
            requests.onNext(DeployRequest.newBuilder()
                    .setChunk(ByteString.copyFrom(bytes, at, Math.min(CHUNK, bytes.length - at))).build());
        }
        requests.onCompleted();
        try {
            R answer = result.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (answer == null) {
                throw CliFailure.failed("the runtime ended the call without an answer");
            }
            return answer;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof StatusRuntimeException s ? s : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw CliFailure.failed("the runtime did not answer within " + timeout + " (raise it with --timeout)");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.failed("interrupted while waiting for the runtime");
        }
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
