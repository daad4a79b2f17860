package io.capmesh.runtime.isolation;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.loader.ExtensionServices;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoServiceDescriptorSupplier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The typed services of an isolated extension, as the runtime mounts them: each method forwards its calls, as
 * bytes, to the child serving now, in both directions with flow control, keeping the caller's headers, deadline
 * and cancellation. The services carry the schemas the child sent, so server reflection describes them as it
 * does in-process ones.
 */
final class ForwardingServices {

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = ExtensionServices.BYTES;

    private ForwardingServices() {
    }

    static List<ServerServiceDefinition> of(ChildProtocol.Ready ready, ChildSupervisor supervisor) {
        Map<String, com.google.protobuf.Descriptors.ServiceDescriptor> schemas = schemas(ready.descriptors());
        Map<String, List<MethodDescriptor<byte[], byte[]>>> byService = new LinkedHashMap<>();
        for (ChildProtocol.Method method : ready.methods()) {
            byService.computeIfAbsent(MethodDescriptor.extractFullServiceName(method.fullName()), s -> new ArrayList<>())
                    .add(MethodDescriptor.newBuilder(BYTES, BYTES).setFullMethodName(method.fullName())
                            .setType(method.type()).build());
        }
        List<ServerServiceDefinition> services = new ArrayList<>();
        ServerCallHandler<byte[], byte[]> forward = new Forward(supervisor);
        byService.forEach((name, methods) -> {
            ServiceDescriptor.Builder descriptor = ServiceDescriptor.newBuilder(name);
            com.google.protobuf.Descriptors.ServiceDescriptor schema = schemas.get(name);
            if (schema != null) {
                descriptor.setSchemaDescriptor(new Schema(schema));
            }
            methods.forEach(descriptor::addMethod);
            ServerServiceDefinition.Builder service = ServerServiceDefinition.builder(descriptor.build());
            methods.forEach(method -> service.addMethod(method, forward));
            services.add(service.build());
        });
        return services;
    }

    /** The services described in a {@code FileDescriptorSet}, by full name. */
    private static Map<String, com.google.protobuf.Descriptors.ServiceDescriptor> schemas(byte[] set) {
        Map<String, FileDescriptorProto> protos = new HashMap<>();
        try {
            FileDescriptorSet.parseFrom(set).getFileList().forEach(file -> protos.put(file.getName(), file));
        } catch (InvalidProtocolBufferException e) {
            return Map.of(); // served all the same, only not described by reflection
        }
        Map<String, FileDescriptor> built = new HashMap<>();
        Map<String, com.google.protobuf.Descriptors.ServiceDescriptor> services = new HashMap<>();
        for (String name : protos.keySet()) {
            FileDescriptor file = build(name, protos, built);
            if (file != null) {
                file.getServices().forEach(service -> services.put(service.getFullName(), service));
            }
        }
        return services;
    }

    private static FileDescriptor build(String name, Map<String, FileDescriptorProto> protos,
                                        Map<String, FileDescriptor> built) {
        if (built.containsKey(name)) {
            return built.get(name);
        }
        FileDescriptorProto proto = protos.get(name);
        if (proto == null) {
            return null;
        }
        built.put(name, null); // a cycle, which protoc never makes, ends here
        List<FileDescriptor> dependencies = new ArrayList<>();
        for (String dependency : proto.getDependencyList()) {
            FileDescriptor file = build(dependency, protos, built);
            if (file == null) {
                return null;
            }
            dependencies.add(file);
        }
        try {
            FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies.toArray(FileDescriptor[]::new));
            built.put(name, file);
            return file;
        } catch (DescriptorValidationException e) {
            return null;
        }
    }

    private record Schema(com.google.protobuf.Descriptors.ServiceDescriptor service)
            implements ProtoServiceDescriptorSupplier {
        @Override
        public FileDescriptor getFileDescriptor() {
            return service.getFile();
        }

        @Override
        public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
            return service;
        }
    }

    /** Starts, for each call, the same call on the child serving now, and relays between the two. */
    private record Forward(ChildSupervisor supervisor) implements ServerCallHandler<byte[], byte[]> {
        @Override
        public ServerCall.Listener<byte[]> startCall(ServerCall<byte[], byte[]> call, Metadata headers) {
            Child child;
            try {
                child = supervisor.serving();
            } catch (Problem.ProblemException e) {
                call.close(e.problem().toStatus(), new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            // started in the caller's context: its deadline and cancellation carry over
            ClientCall<byte[], byte[]> outgoing = child.channel().newCall(call.getMethodDescriptor(), CallOptions.DEFAULT);
            Relay relay = new Relay(call, outgoing, child, supervisor);
            outgoing.start(relay.fromChild, headers);
            outgoing.request(1);
            call.request(1);
            return relay.fromCaller;
        }
    }

    /**
     * One forwarded call. A message is asked for on one side only once the other side is ready to send it on, so
     * neither side buffers without bound. One lock orders every step, as neither call object is thread-safe.
     */
    private static final class Relay {
        private final ServerCall<byte[], byte[]> incoming;
        private final ClientCall<byte[], byte[]> outgoing;
        private boolean callerWaits; // a request message is owed to the caller once the child is ready
        private boolean childWaits;  // an answer message is owed to the child once the caller is ready

        final ServerCall.Listener<byte[]> fromCaller = new ServerCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                synchronized (Relay.this) {
                    outgoing.sendMessage(message);
                    if (outgoing.isReady()) {
                        incoming.request(1);
                    } else {
                        callerWaits = true;
                    }
                }
            }

            @Override
            public void onHalfClose() {
                synchronized (Relay.this) {
                    outgoing.halfClose();
                }
            }

            @Override
            public void onCancel() {
                synchronized (Relay.this) {
                    outgoing.cancel("the caller cancelled", null);
                }
            }

            @Override
            public void onReady() {
                synchronized (Relay.this) {
                    if (childWaits) {
                        childWaits = false;
                        outgoing.request(1);
                    }
                }
            }
        };

        final ClientCall.Listener<byte[]> fromChild;

        Relay(ServerCall<byte[], byte[]> incoming, ClientCall<byte[], byte[]> outgoing, Child child,
              ChildSupervisor supervisor) {
            this.incoming = incoming;
            this.outgoing = outgoing;
            String what = incoming.getMethodDescriptor().getFullMethodName();
            this.fromChild = new ClientCall.Listener<>() {
                @Override
                public void onHeaders(Metadata headers) {
                    synchronized (Relay.this) {
                        incoming.sendHeaders(headers);
                    }
                }

                @Override
                public void onMessage(byte[] message) {
                    synchronized (Relay.this) {
                        incoming.sendMessage(message);
                        if (incoming.isReady()) {
                            outgoing.request(1);
                        } else {
                            childWaits = true;
                        }
                    }
                }

                @Override
                public void onClose(Status status, Metadata trailers) {
                    Status answer = status.isOk() ? status
                            : supervisor.explain(child, status, trailers, what).toStatus();
                    trailers.discardAll(ChildProtocol.ANSWERED);
                    synchronized (Relay.this) {
                        incoming.close(answer, trailers);
                    }
                }

                @Override
                public void onReady() {
                    synchronized (Relay.this) {
                        if (callerWaits) {
                            callerWaits = false;
                            incoming.request(1);
                        }
                    }
                }
            };
        }
    }
}
