package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Descriptors.MethodDescriptor;
import com.google.protobuf.Descriptors.ServiceDescriptor;
import com.google.protobuf.DynamicMessage;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed gRPC service an extension contributes ({@code capmesh.core.echo.v1.Echo} from core.echo): served on
 * the runtime's own port while the extension is loaded, described by server reflection, replaced on swap and
 * gone on unload, without keeping any unloaded version's classloader alive.
 *
 * <p>No generated class of the extension is on this class path (extension classes never are): the client learns
 * the schema through server reflection and calls with {@link DynamicMessage}s.
 */
class TypedServicesTest {

    private static final String ECHO = "capmesh.core.echo.v1.Echo";

    @TempDir
    Path data;

    @Test
    void aDeployedExtensionsTypedServiceAnswersOnTheRuntimesPortAndReflectionDescribesIt() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            assertThat(Reflection.services(runtime.channel())).doesNotContain(ECHO);

            var deployed = runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            assertThat(deployed.getExtension().getManifest().getVersion()).isEqualTo("1.0.0");

            assertThat(Reflection.services(runtime.channel())).contains(ECHO, "capmesh.v1.RuntimeService");
            ServiceDescriptor echo = Reflection.service(runtime.channel(), ECHO);
            assertThat(echo.getFile().getPackage()).isEqualTo("capmesh.core.echo.v1");
            assertThat(echo.getMethods()).extracting(MethodDescriptor::getName).containsExactly("Echo");

            Reply reply = Reply.of(callEcho(runtime.channel(), echo, "hello"));
            assertThat(reply).isEqualTo(new Reply("hello", "1.0.0"));

            // the untyped path of the same extension is unchanged
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "hello"))).isEqualTo("hello");
        }
    }

    @Test
    void afterASwapTheNewVersionAnswersAndTheOldOneIsCollected() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            byte[] v1 = TestExtensions.bytes("capmesh-ext-echo");
            runtime.deploy(v1);
            // reflection indexes the 1.0.0 descriptors now; that index must not keep 1.0.0 alive after the swap
            ServiceDescriptor before = Reflection.service(runtime.channel(), ECHO);
            assertThat(Reply.of(callEcho(runtime.channel(), before, "one"))).isEqualTo(new Reply("one", "1.0.0"));

            SwapResponse swapped = runtime.swap(Repackager.withVersion(v1, "1.1.0"));

            assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.1.0");
            assertThat(swapped.getPrevious().getReclamation().getState())
                    .as("1.0.0 after the swap: %s", swapped.getPrevious().getReclamation())
                    .isEqualTo(Reclamation.State.COLLECTED);
            // a client that learnt the schema before the swap keeps working: same name, same messages
            assertThat(Reply.of(callEcho(runtime.channel(), before, "two"))).isEqualTo(new Reply("two", "1.1.0"));

            assertThat(Reflection.services(runtime.channel())).containsOnlyOnce(ECHO);
            ServiceDescriptor after = Reflection.service(runtime.channel(), ECHO);
            assertThat(Reply.of(callEcho(runtime.channel(), after, "three")))
                    .isEqualTo(new Reply("three", "1.1.0"));
        }
    }

    @Test
    void afterUnloadTheServiceIsGoneFromThePortAndFromReflectionAndTheVersionIsCollected() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            // reflection indexes the descriptors; the unload below must be collected with no reflection call between
            ServiceDescriptor echo = Reflection.service(runtime.channel(), ECHO);
            assertThat(Reply.of(callEcho(runtime.channel(), echo, "hello"))).isEqualTo(new Reply("hello", "1.0.0"));

            UnloadResponse unloaded = runtime.unload("core-echo");

            assertThat(unloaded.getReclamation().getState())
                    .as("core-echo after unload: %s", unloaded.getReclamation())
                    .isEqualTo(Reclamation.State.COLLECTED);
            assertThatThrownBy(() -> callEcho(runtime.channel(), echo, "hello"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
            assertThat(Reflection.services(runtime.channel())).doesNotContain(ECHO)
                    .contains("capmesh.v1.RuntimeService");
            ServerReflectionResponse lookup = Reflection.fileContainingSymbol(runtime.channel(), ECHO);
            assertThat(lookup.hasErrorResponse()).as("reflection answer for %s: %s", ECHO, lookup).isTrue();
            assertThat(lookup.getErrorResponse().getErrorCode()).isEqualTo(Status.Code.NOT_FOUND.value());
        }
    }

    /** Calls {@code Echo} on a service known only by its descriptor. */
    @Test
    void typedCallsArePinnedCountedAndNoneFailsDuringASwap() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            byte[] v1 = TestExtensions.bytes("capmesh-ext-echo");
            runtime.deploy(v1);
            ServiceDescriptor echo = Reflection.service(runtime.channel(), ECHO);
            java.util.concurrent.atomic.AtomicBoolean swapping = new java.util.concurrent.atomic.AtomicBoolean(true);
            java.util.Set<String> versions = java.util.concurrent.ConcurrentHashMap.newKeySet();
            java.util.List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
            List<Thread> clients = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                Thread client = new Thread(() -> {
                    while (swapping.get()) {
                        try {
                            versions.add(Reply.of(callEcho(runtime.channel(), echo, "x")).version());
                            calls.incrementAndGet();
                        } catch (RuntimeException e) {
                            failures.add(e);
                        }
                    }
                });
                client.start();
                clients.add(client);
            }
            Thread.sleep(200);
            SwapResponse swapped = runtime.swap(Repackager.withVersion(v1, "1.1.0"));
            Thread.sleep(200);
            swapping.set(false);
            for (Thread client : clients) {
                client.join();
            }
            assertThat(failures).isEmpty();
            assertThat(versions).containsExactlyInAnyOrder("1.0.0", "1.1.0");
            assertThat(swapped.getPrevious().getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
            // typed calls count like Invoke calls, and the counts carry over to the new version
            assertThat(runtime.stub().listExtensions(io.capmesh.proto.v1.ListExtensionsRequest.getDefaultInstance())
                    .getExtensions(0).getInvocations()).isEqualTo(calls.get());
        }
    }

    static DynamicMessage callEcho(Channel channel, ServiceDescriptor service, String text) {
        MethodDescriptor method = service.findMethodByName("Echo");
        Descriptor input = method.getInputType();
        io.grpc.MethodDescriptor<DynamicMessage, DynamicMessage> call =
                io.grpc.MethodDescriptor.<DynamicMessage, DynamicMessage>newBuilder()
                        .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
                        .setFullMethodName(io.grpc.MethodDescriptor.generateFullMethodName(
                                service.getFullName(), method.getName()))
                        .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(input)))
                        .setResponseMarshaller(ProtoUtils.marshaller(
                                DynamicMessage.getDefaultInstance(method.getOutputType())))
                        .build();
        DynamicMessage request = DynamicMessage.newBuilder(input)
                .setField(input.findFieldByName("text"), text).build();
        return ClientCalls.blockingUnaryCall(channel, call,
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), request);
    }

    /** An {@code EchoReply}, read by field name. */
    record Reply(String text, String version) {
        static Reply of(DynamicMessage reply) {
            Descriptor type = reply.getDescriptorForType();
            assertThat(type.getFullName()).isEqualTo("capmesh.core.echo.v1.EchoReply");
            return new Reply((String) reply.getField(type.findFieldByName("text")),
                    (String) reply.getField(type.findFieldByName("version")));
        }
    }

    /** A client of {@code grpc.reflection.v1}: one request per stream. */
    static final class Reflection {

        private Reflection() {
        }

        static List<String> services(Channel channel) throws Exception {
            ServerReflectionResponse response =
                    ask(channel, ServerReflectionRequest.newBuilder().setListServices("*").build());
            assertThat(response.hasListServicesResponse()).as("list services: %s", response).isTrue();
            return response.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName)
                    .toList();
        }

        static ServerReflectionResponse fileContainingSymbol(Channel channel, String symbol) throws Exception {
            return ask(channel, ServerReflectionRequest.newBuilder().setFileContainingSymbol(symbol).build());
        }

        /** The service's descriptor, built from the files reflection sends (its file and what that imports). */
        static ServiceDescriptor service(Channel channel, String name) throws Exception {
            ServerReflectionResponse response = fileContainingSymbol(channel, name);
            assertThat(response.hasFileDescriptorResponse()).as("file containing %s: %s", name, response).isTrue();
            Map<String, FileDescriptorProto> protos = new HashMap<>();
            for (ByteString bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
                FileDescriptorProto proto = FileDescriptorProto.parseFrom(bytes);
                protos.put(proto.getName(), proto);
            }
            Map<String, FileDescriptor> built = new HashMap<>();
            for (String file : protos.keySet()) {
                ServiceDescriptor service = build(file, protos, built).findServiceByName(simpleName(name));
                if (service != null && service.getFullName().equals(name)) {
                    return service;
                }
            }
            throw new AssertionError("reflection sent no file that defines " + name + ": " + protos.keySet());
        }

        private static FileDescriptor build(String file, Map<String, FileDescriptorProto> protos,
                                            Map<String, FileDescriptor> built)
                throws DescriptorValidationException {
            FileDescriptor done = built.get(file);
            if (done != null) {
                return done;
            }
            FileDescriptorProto proto = protos.get(file);
            if (proto == null) {
                throw new AssertionError("reflection did not send " + file);
            }
            FileDescriptor[] dependencies = new FileDescriptor[proto.getDependencyCount()];
            for (int i = 0; i < dependencies.length; i++) {
                dependencies[i] = build(proto.getDependency(i), protos, built);
            }
            FileDescriptor descriptor = FileDescriptor.buildFrom(proto, dependencies);
            built.put(file, descriptor);
            return descriptor;
        }

        private static String simpleName(String fullName) {
            return fullName.substring(fullName.lastIndexOf('.') + 1);
        }

        private static ServerReflectionResponse ask(Channel channel, ServerReflectionRequest request)
                throws Exception {
            CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
            StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .serverReflectionInfo(Completion.of(answer));
            requests.onNext(request);
            requests.onCompleted();
            return answer.get(10, TimeUnit.SECONDS);
        }
    }
}
