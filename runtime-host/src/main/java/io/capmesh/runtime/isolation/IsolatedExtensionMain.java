package io.capmesh.runtime.isolation;

import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.FileDescriptor;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.HostServices;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.grpc.RuntimeGrpcService;
import io.capmesh.runtime.loader.ExtensionLoader;
import io.capmesh.runtime.loader.ExtensionServices;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.pkg.ManifestReader;
import io.capmesh.runtime.pkg.PackageReader;
import io.capmesh.runtime.reclaim.LeakInspector;
import io.capmesh.runtime.reclaim.LeakPaths;
import io.capmesh.runtime.reclaim.Reclaimer;
import io.capmesh.runtime.reclaim.RenewableExecutor;
import io.capmesh.runtime.store.ExtensionStore;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.ProtoFileDescriptorSupplier;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The main class of a child JVM: hosts exactly one extension, loaded by the runtime's own loader, and serves it on
 * 127.0.0.1 (a free port, which it tells the runtime) through the runtime's own {@code Invoke} and
 * {@code InvokeStream} and the extension's typed services. It exits when its standard input ends: the runtime
 * closes it to stop the child, and the system closes it when the runtime dies.
 */
public final class IsolatedExtensionMain {

    private static final Duration CLOSE_GRACE = Duration.ofSeconds(4);

    private IsolatedExtensionMain() {
    }

    public static void main(String[] args) {
        PrintStream protocol = System.out;
        ChildProtocol.Config config;
        try {
            config = ChildProtocol.Config.read(new DataInputStream(System.in));
        } catch (IOException e) {
            System.err.println("no configuration on standard input (" + e + "); this is started by a capmesh runtime");
            Runtime.getRuntime().halt(2);
            return;
        }
        ExtensionManifest manifest = ManifestReader.read(config.manifestJson(), config.source());
        RenewableExecutor calls = new RenewableExecutor("capmesh-call");
        ScheduledExecutorService deadlines = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "capmesh-deadlines");
            thread.setDaemon(true);
            return thread;
        });
        ExtensionServices services = new ExtensionServices();
        ExtensionRuntime runtime = new ExtensionRuntime(
                new PackageReader(Path.of(System.getProperty("java.io.tmpdir")), PackageReader.Limits.DEFAULT),
                new ExtensionLoader(IsolatedExtensionMain.class.getClassLoader(), config.tierPackages(),
                        Map.of(manifest.id(), config.settings()), config.maxConcurrentCalls(), new HostServices(),
                        Clock.systemUTC()),
                new NoStore(), new Reclaimer(new LeakInspector(calls), Duration.ofSeconds(2),
                new LeakPaths(LeakPaths.Settings.off())), services,
                Duration.ofSeconds(10));
        Server server;
        LoadedExtension ext;
        try {
            ext = runtime.deploy(new ExtensionPackage(manifest, config.source(), Path.of(config.jar()),
                    config.sha256(), config.size()));
            RuntimeGrpcService endpoint = new RuntimeGrpcService(runtime, calls, deadlines,
                    Duration.ofMillis(config.maxCallMillis()));
            server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                    .executor(calls)
                    .maxInboundMessageSize(config.maxPayloadBytes())
                    .addService(invokeOnly(endpoint.bindService()))
                    .fallbackHandlerRegistry(services)
                    .intercept(new MarkAnswers())
                    .build().start();
        } catch (Problem.ProblemException e) {
            protocol.println(ChildProtocol.failedLine(e.problem()));
            protocol.flush();
            Runtime.getRuntime().halt(2);
            return;
        } catch (IOException | RuntimeException | LinkageError e) {
            protocol.println(ChildProtocol.failedLine(Problem.precondition(manifest.coordinates()
                    + " did not start in its child JVM: " + e)));
            protocol.flush();
            Runtime.getRuntime().halt(2);
            return;
        }
        watchParent(runtime);
        protocol.println(new ChildProtocol.Ready(server.getPort(), methods(ext), descriptors(ext)).line());
        protocol.flush();
        try {
            server.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Only the calls: the child takes no deploys, swaps or unloads. */
    private static ServerServiceDefinition invokeOnly(ServerServiceDefinition runtimeService) {
        return ServerServiceDefinition.builder(RuntimeServiceGrpc.SERVICE_NAME)
                .addMethod(runtimeService.getMethod(RuntimeServiceGrpc.getInvokeMethod().getFullMethodName()))
                .addMethod(runtimeService.getMethod(RuntimeServiceGrpc.getInvokeStreamMethod().getFullMethodName()))
                .build();
    }

    /** Ends the child when its standard input ends, closing the extension first (within a grace period). */
    private static void watchParent(ExtensionRuntime runtime) {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing more is sent; the end of the stream is the message
                }
            } catch (IOException gone) {
                // the same: the runtime is gone
            }
            Thread closer = new Thread(runtime::close, "capmesh-child-close");
            closer.setDaemon(true);
            closer.start();
            try {
                closer.join(CLOSE_GRACE.toMillis());
            } catch (InterruptedException ignored) {
                // halting anyway
            }
            Runtime.getRuntime().halt(0);
        }, "capmesh-parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }

    private static List<ChildProtocol.Method> methods(LoadedExtension ext) {
        List<ChildProtocol.Method> methods = new ArrayList<>();
        for (ServerServiceDefinition service : ext.live().services()) {
            service.getMethods().forEach(method -> methods.add(new ChildProtocol.Method(
                    method.getMethodDescriptor().getFullMethodName(), method.getMethodDescriptor().getType())));
        }
        return methods;
    }

    /** The schemas of the typed services (and every file they import), for the runtime's reflection. */
    private static byte[] descriptors(LoadedExtension ext) {
        Map<String, FileDescriptor> files = new LinkedHashMap<>();
        for (ServerServiceDefinition service : ext.live().services()) {
            if (service.getServiceDescriptor().getSchemaDescriptor() instanceof ProtoFileDescriptorSupplier schema) {
                collect(schema.getFileDescriptor(), files);
            }
        }
        FileDescriptorSet.Builder set = FileDescriptorSet.newBuilder();
        files.values().forEach(file -> set.addFile(file.toProto()));
        return set.build().toByteArray();
    }

    private static void collect(FileDescriptor file, Map<String, FileDescriptor> files) {
        if (files.putIfAbsent(file.getName(), file) == null) {
            file.getDependencies().forEach(dependency -> collect(dependency, files));
        }
    }

    /** Marks every answer as the child's own, so the runtime tells it from a connection lost with the child. */
    private static final class MarkAnswers implements ServerInterceptor {
        @Override
        public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                          ServerCallHandler<Q, A> next) {
            return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                @Override
                public void close(Status status, Metadata trailers) {
                    trailers.put(ChildProtocol.ANSWERED, "1");
                    super.close(status, trailers);
                }
            }, headers);
        }
    }

    /** The runtime keeps the package; the child has nothing to persist. */
    private static final class NoStore implements ExtensionStore {
        @Override
        public void put(StoredExtension extension) {
        }

        @Override
        public void remove(String id) {
        }

        @Override
        public List<StoredExtension> all() {
            return List.of();
        }

        @Override
        public void setCounts(String id, long invocations, long failures) {
        }

        @Override
        public void quarantine(String id, Quarantine quarantine) {
        }

        @Override
        public boolean release(String id) {
            return false;
        }

        @Override
        public void recordAbnormalEnd(AbnormalEnd end) {
        }

        @Override
        public List<AbnormalEnd> abnormalEnds() {
            return List.of();
        }

        @Override
        public void clearAbnormalEnds() {
        }

        @Override
        public void close() {
        }
    }
}
