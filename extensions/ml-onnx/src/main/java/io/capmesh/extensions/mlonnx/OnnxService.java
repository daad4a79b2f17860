package io.capmesh.extensions.mlonnx;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.mlonnx.v1.DescribeRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchResponse;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.ModelInfo;
import io.capmesh.extensions.mlonnx.v1.OnnxGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;

/** {@code capmesh.ml.onnx.v1.Onnx}: the extension's methods as a typed service, with the same statuses as Invoke. */
final class OnnxService extends OnnxGrpc.OnnxImplBase {

    private interface Call<T> {
        T run() throws Exception;
    }

    private final OnnxExtension extension;

    OnnxService(OnnxExtension extension) {
        this.extension = extension;
    }

    @Override
    public void describe(DescribeRequest request, StreamObserver<ModelInfo> observer) {
        answer(observer, () -> extension.describe(request));
    }

    @Override
    public void infer(InferRequest request, StreamObserver<InferResponse> observer) {
        answer(observer, () -> extension.infer(request));
    }

    @Override
    public void inferBatch(InferBatchRequest request, StreamObserver<InferBatchResponse> observer) {
        answer(observer, () -> extension.inferBatch(request));
    }

    private static <T> void answer(StreamObserver<T> observer, Call<T> call) {
        T reply;
        try {
            reply = call.run();
        } catch (CapabilityException e) {
            observer.onError(Status.fromCode(Status.Code.valueOf(e.reason().name())).withDescription(e.getMessage())
                    .asRuntimeException());
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            observer.onError(Status.CANCELLED.withDescription("interrupted").asRuntimeException());
            return;
        } catch (Exception e) {
            observer.onError(Status.INTERNAL.withDescription(e.toString()).withCause(e).asRuntimeException());
            return;
        }
        observer.onNext(reply);
        observer.onCompleted();
    }
}
