package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code InvokeStream}: many calls over one stream, each request answered in order by one response. */
class InvokeStreamTest {

    @TempDir
    Path data;

    @Test
    void eachRequestOnOneStreamIsAnsweredInTurn() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            Stream stream = Stream.open(runtime);

            // one at a time: each answer comes while the stream stays open
            for (String text : List.of("one", "two", "three")) {
                stream.send(request("core.echo", "echo", text));
                InvokeResponse answer = stream.nextResponse();
                assertThat(answer.getPayload().toStringUtf8()).isEqualTo(text);
                assertThat(answer.getExtensionId()).isEqualTo("core-echo");
                assertThat(answer.getExtensionVersion()).isEqualTo("1.0.0");
            }
            stream.finish();
            assertThat(stream.remaining()).containsExactly(Stream.COMPLETED);
        }
    }

    @Test
    void requestsSentTogetherAreAnsweredInTheOrderSentEvenWhenAnEarlierOneIsSlow() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            Stream stream = Stream.open(runtime);

            stream.send(request("core.echo", "echo", "first"));
            stream.send(request("core.echo", "hold", "300"));
            stream.send(request("core.echo", "echo", "after the slow one"));
            stream.send(request("core.echo", "hold", "0"));
            stream.send(request("core.echo", "echo", "last"));
            stream.finish();

            List<Object> events = stream.remaining();
            assertThat(events).hasSize(6).last().isEqualTo(Stream.COMPLETED);
            assertThat(events.subList(0, 5)).extracting(e -> ((InvokeResponse) e).getPayload().toStringUtf8())
                    .containsExactly("first", "1.0.0 300", "after the slow one", "1.0.0 0", "last");
        }
    }

    @Test
    void aRequestForAnUnknownCapabilityEndsTheStreamWithNotFound() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            Stream stream = Stream.open(runtime);

            stream.send(request("core.echo", "echo", "before"));
            stream.send(request("core.nope", "echo", "lost"));
            stream.send(request("core.echo", "echo", "never answered"));
            stream.finish();

            List<Object> events = stream.remaining();
            assertThat(events).hasSize(2);
            assertThat(((InvokeResponse) events.get(0)).getPayload().toStringUtf8()).isEqualTo("before");
            assertThat(events.get(1)).isInstanceOfSatisfying(Throwable.class, error -> {
                Status status = Status.fromThrowable(error);
                assertThat(status.getCode()).isEqualTo(Status.Code.NOT_FOUND);
                assertThat(status.getDescription()).contains("core.nope").contains("core.echo");
            });
            // the runtime goes on serving
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "still here"))).isEqualTo("still here");
        }
    }

    private static InvokeRequest request(String capability, String method, String payload) {
        return InvokeRequest.newBuilder().setCapability(capability).setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build();
    }

    /** One InvokeStream call; what the runtime sends back is queued in arrival order. */
    private static final class Stream {
        static final Object COMPLETED = "completed";

        private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        private StreamObserver<InvokeRequest> requests;

        static Stream open(TestRuntime runtime) {
            Stream stream = new Stream();
            stream.requests = runtime.async().withDeadlineAfter(30, TimeUnit.SECONDS)
                    .invokeStream(new StreamObserver<>() {
                        @Override
                        public void onNext(InvokeResponse response) {
                            stream.events.add(response);
                        }

                        @Override
                        public void onError(Throwable t) {
                            stream.events.add(t);
                        }

                        @Override
                        public void onCompleted() {
                            stream.events.add(COMPLETED);
                        }
                    });
            return stream;
        }

        void send(InvokeRequest request) {
            requests.onNext(request);
        }

        void finish() {
            requests.onCompleted();
        }

        InvokeResponse nextResponse() throws InterruptedException {
            Object event = events.poll(10, TimeUnit.SECONDS);
            assertThat(event).as("the next event on the stream").isInstanceOf(InvokeResponse.class);
            return (InvokeResponse) event;
        }

        /** Everything up to and including the end of the stream (completion or error). */
        List<Object> remaining() throws InterruptedException {
            List<Object> all = new ArrayList<>();
            for (;;) {
                Object event = events.poll(10, TimeUnit.SECONDS);
                assertThat(event).as("an event on the stream after %s", all).isNotNull();
                all.add(event);
                if (event == COMPLETED || event instanceof Throwable) {
                    return all;
                }
            }
        }
    }
}
