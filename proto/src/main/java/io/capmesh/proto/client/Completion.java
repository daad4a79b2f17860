package io.capmesh.proto.client;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** A response observer that completes a future with the (last) response, or with the call's error. */
public final class Completion {

    private Completion() {
    }

    public static <R> StreamObserver<R> of(CompletableFuture<R> result) {
        return new StreamObserver<>() {
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
                result.complete(null); // no effect once a response arrived
            }
        };
    }
}
