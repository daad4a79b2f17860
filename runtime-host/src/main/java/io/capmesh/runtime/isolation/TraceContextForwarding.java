package io.capmesh.runtime.isolation;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapSetter;

/**
 * Puts the current trace context (the runtime's span for the call being forwarded) on each call to a child, as
 * W3C {@code traceparent}, so whatever the child traces joins the caller's trace.
 */
final class TraceContextForwarding implements ClientInterceptor {

    private static final TextMapSetter<Metadata> SETTER = (headers, key, value) -> {
        Metadata.Key<String> name = Metadata.Key.of(key, Metadata.ASCII_STRING_MARSHALLER);
        headers.discardAll(name);
        headers.put(name, value);
    };

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<A> listener, Metadata headers) {
                W3CTraceContextPropagator.getInstance().inject(Context.current(), headers, SETTER);
                super.start(listener, headers);
            }
        };
    }
}
