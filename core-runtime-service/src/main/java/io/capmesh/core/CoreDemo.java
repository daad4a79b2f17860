package io.capmesh.core;

import com.google.protobuf.ByteString;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.grpc.server.lifecycle.GrpcServerStartedEvent;
import org.springframework.stereotype.Component;

/**
 * {@code --capmesh.demo=true}: once the runtime serves, walks through its life cycle as a client would, over
 * gRPC on loopback (invoke, deploy, swap under load, unload with the collection verdict), prints what happened,
 * and stops the runtime.
 */
@Component
@ConditionalOnBooleanProperty("capmesh.demo")
class CoreDemo implements ApplicationRunner {

    private static final int CALLS_IN_FLIGHT = 200;
    private static final java.time.Duration UPLOAD = java.time.Duration.ofSeconds(60);

    private final ConfigurableApplicationContext context;
    private final PrintStream out = System.out;
    private volatile int port;

    CoreDemo(ConfigurableApplicationContext context) {
        this.context = context;
    }

    @EventListener
    void serverStarted(GrpcServerStartedEvent started) {
        port = started.getPort();
    }

    @Override
    public void run(ApplicationArguments args) throws Exception {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        int exitCode = 0;
        try {
            walkThrough(RuntimeServiceGrpc.newBlockingStub(channel), RuntimeServiceGrpc.newStub(channel), port);
        } catch (RuntimeException e) {
            out.println("demo failed: " + e);
            exitCode = 1;
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        int code = exitCode;
        System.exit(SpringApplication.exit(context, () -> code));
    }

    private void walkThrough(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub, RuntimeServiceGrpc.RuntimeServiceStub async,
                             int port) throws Exception {
        out.printf("%ncapmesh core runtime serving on 127.0.0.1:%d%n", port);
        if (stub.listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                .anyMatch(e -> e.getManifest().getId().equals("legacy-guava"))) {
            stub.unload(UnloadRequest.newBuilder().setExtensionId("legacy-guava").build()); // from an earlier run
        }
        listExtensions(stub);

        step("invoke", "core.json/canonicalize");
        String json = "{\"b\": 2, \"a\": [1.0, \"x\"], \"c\": {\"z\": true, \"y\": null}}";
        out.printf("   %s%n   -> %s%n", json, text(invoke(stub, "core.json", "canonicalize", json)));

        step("invoke", "core.compress/gzip and gunzip");
        byte[] document = "capmesh ".repeat(1_000).getBytes(StandardCharsets.UTF_8);
        byte[] gz = invoke(stub, "core.compress", "gzip", document).getPayload().toByteArray();
        byte[] back = invoke(stub, "core.compress", "gunzip", gz).getPayload().toByteArray();
        out.printf("   %d bytes -> %d bytes gzip -> %d bytes, identical: %s%n", document.length, gz.length,
                back.length, java.util.Arrays.equals(document, back));

        step("deploy", "legacy-guava from bytes (it bundles Guava 20; the runtime has Guava 33)");
        byte[] guava = bundledDemoJar("capmesh-ext-legacy-guava.jar");
        var deployed = PackageUpload.deploy(async, named("capmesh-ext-legacy-guava.jar"), guava, UPLOAD);
        out.printf("   loaded %s in %.1f ms (%d KB)%n", coordinates(deployed.getExtension()),
                deployed.getLoadMicros() / 1000.0, guava.length / 1024);
        out.printf("   whoami -> %s%n", text(invoke(stub, "test.legacy-guava", "whoami", "")));

        ExtensionInfo echo = find(stub, "core-echo");
        String next = nextPatch(echo.getManifest().getVersion());
        step("swap", "core-echo " + echo.getManifest().getVersion() + " -> " + next + " with " + CALLS_IN_FLIGHT
                + " calls in flight");
        ConcurrentHashMap<String, AtomicInteger> servedBy = new ConcurrentHashMap<>();
        AtomicInteger failed = new AtomicInteger();
        CompletableFuture<?>[] calls = new CompletableFuture<?>[CALLS_IN_FLIGHT];
        for (int i = 0; i < CALLS_IN_FLIGHT; i++) {
            calls[i] = call(async, "hold", "500").whenComplete((r, e) -> {
                if (e != null) {
                    failed.incrementAndGet();
                } else {
                    servedBy.computeIfAbsent(r.getExtensionVersion(), v -> new AtomicInteger()).incrementAndGet();
                }
            });
        }
        Thread.sleep(200);
        byte[] echoJar = bundledJar("capmesh-ext-echo.jar");
        var swapped = PackageUpload.swap(async, named("capmesh-ext-echo.jar"), Repackager.withVersion(echoJar, next),
                UPLOAD);
        CompletableFuture.allOf(calls).exceptionally(e -> null).get(30, TimeUnit.SECONDS);
        String after = text(invoke(stub, "core.echo", "hold", "0"));
        out.printf("   switched in %.1f ms; calls in flight finished on: %s; failed: %d%n",
                swapped.getSwapMicros() / 1000.0, servedBy, failed.get());
        out.printf("   a new call now answers as '%s'%n", after.trim());
        reclamation(swapped.getPrevious());

        step("unload", "legacy-guava");
        reclamation(stub.unload(UnloadRequest.newBuilder().setExtensionId("legacy-guava").build()));
        listExtensions(stub);
        out.println();
    }

    private void listExtensions(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub) {
        List<ExtensionInfo> loaded = stub.listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList();
        out.printf("   loaded: %s%n", String.join(", ", loaded.stream().map(e -> coordinates(e) + " ["
                + String.join(", ", e.getManifest().getCapabilitiesList().stream().map(c -> c.getName()).toList())
                + "]").toList()));
    }

    private void reclamation(UnloadResponse unloaded) {
        Reclamation r = unloaded.getReclamation();
        out.printf("   %s@%s classloader %s in %d ms%s%n", unloaded.getExtensionId(), unloaded.getVersion(),
                r.getState(), r.getElapsedMillis(), r.getCausesCount() == 0 ? "" : ": " + r.getCausesList());
    }

    private int steps;

    private void step(String verb, String what) {
        out.printf("%n%d. %-7s %s%n", ++steps, verb, what);
    }

    private static ExtensionInfo find(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub, String id) {
        return stub.listExtensions(ListExtensionsRequest.getDefaultInstance()).getExtensionsList().stream()
                .filter(e -> e.getManifest().getId().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalStateException(id + " is not loaded"));
    }

    private static String coordinates(ExtensionInfo info) {
        return info.getManifest().getId() + "@" + info.getManifest().getVersion();
    }

    private static String nextPatch(String version) {
        String[] parts = version.split("[.+-]");
        return parts[0] + "." + parts[1] + "." + (Integer.parseInt(parts[2]) + 1);
    }

    private static InvokeResponse invoke(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub, String capability,
                                         String method, String payload) {
        return invoke(stub, capability, method, payload.getBytes(StandardCharsets.UTF_8));
    }

    private static InvokeResponse invoke(RuntimeServiceGrpc.RuntimeServiceBlockingStub stub, String capability,
                                         String method, byte[] payload) {
        return stub.withDeadlineAfter(10, TimeUnit.SECONDS).invoke(InvokeRequest.newBuilder()
                .setCapability(capability).setMethod(method).setPayload(ByteString.copyFrom(payload)).build());
    }

    private static CompletableFuture<InvokeResponse> call(RuntimeServiceGrpc.RuntimeServiceStub async, String method,
                                                          String payload) {
        CompletableFuture<InvokeResponse> result = new CompletableFuture<>();
        async.invoke(InvokeRequest.newBuilder().setCapability("core.echo").setMethod(method)
                .setPayload(ByteString.copyFromUtf8(payload)).build(), Completion.of(result));
        return result;
    }

    private static DeployHeader named(String fileName) {
        return DeployHeader.newBuilder().setFileName(fileName).build();
    }

    private static String text(InvokeResponse response) {
        return response.getPayload().toString(StandardCharsets.UTF_8);
    }

    private static byte[] bundledJar(String name) throws java.io.IOException {
        return resource("capmesh/extensions/" + name);
    }

    private static byte[] bundledDemoJar(String name) throws java.io.IOException {
        return resource("capmesh/demo/" + name);
    }

    private static byte[] resource(String path) throws java.io.IOException {
        try (InputStream in = CoreDemo.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException(path + " is not in the service jar; build it with ./mvnw install");
            }
            return in.readAllBytes();
        }
    }
}
