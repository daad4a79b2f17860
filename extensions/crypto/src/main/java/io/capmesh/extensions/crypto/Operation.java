package io.capmesh.extensions.crypto;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.capmesh.extension.api.CapabilityException;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import java.util.function.Function;

/**
 * One operation, reachable two ways: as its typed RPC, and through {@code Invoke} as {@code capability/method} with
 * the RPC's request message as the payload. Both run the same handler, so the two cannot drift apart.
 *
 * @param capability e.g. {@code crypto.sign}
 * @param rpc        the typed RPC; its name in lower camel case is the {@code Invoke} method name
 * @param handler    the work; throws {@link CapabilityException} for every expected failure
 */
record Operation<Q extends Message, A extends Message>(String capability, MethodDescriptor<Q, A> rpc,
                                                       Function<Q, A> handler) {

    /** The {@code Invoke} method name, e.g. {@code exportPublicKey} for {@code ExportPublicKey}. */
    String method() {
        String name = rpc.getBareMethodName();
        return Character.toLowerCase(name.charAt(0)) + name.substring(1);
    }

    /** Answers an {@code Invoke}: the serialized request in, the serialized response out. */
    byte[] invoke(byte[] payload) {
        Q request = parse(payload);
        try {
            return handler.apply(request).toByteArray();
        } catch (CapabilityException e) {
            throw e;
        } catch (RuntimeException e) {
            throw unexpected(e);
        }
    }

    void addTo(ServerServiceDefinition.Builder service) {
        service.addMethod(rpc, ServerCalls.asyncUnaryCall((request, observer) -> {
            A answer;
            try {
                answer = handler.apply(request);
            } catch (CapabilityException e) {
                observer.onError(Status.fromCode(Status.Code.valueOf(e.reason().name()))
                        .withDescription(e.getMessage()).asRuntimeException());
                return;
            } catch (RuntimeException e) {
                observer.onError(Status.INTERNAL.withDescription(unexpected(e).getMessage()).asRuntimeException());
                return;
            }
            observer.onNext(answer);
            observer.onCompleted();
        }));
    }

    /** A bug rather than bad input: named by its type only, since its own message could echo input or keys. */
    private IllegalStateException unexpected(RuntimeException e) {
        return new IllegalStateException(capability + "/" + method() + " failed unexpectedly ("
                + e.getClass().getName() + ")", e);
    }

    @SuppressWarnings("unchecked")
    private Q parse(byte[] payload) {
        Q prototype = ((MethodDescriptor.PrototypeMarshaller<Q>) rpc.getRequestMarshaller()).getMessagePrototype();
        try {
            return (Q) prototype.getParserForType().parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw CapabilityException.invalidArgument(capability + "/" + method() + " takes a serialized "
                    + prototype.getDescriptorForType().getFullName() + " (protobuf) as its payload; this one does "
                    + "not parse");
        }
    }
}
