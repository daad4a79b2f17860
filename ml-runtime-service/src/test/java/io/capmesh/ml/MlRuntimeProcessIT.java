package io.capmesh.ml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.capmesh.extensions.mlonnx.TinyClassifierChecks;
import io.capmesh.extensions.mlonnx.TinyClassifierFunction;
import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.DescribeRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchResponse;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.ModelInfo;
import io.capmesh.extensions.mlonnx.v1.OnnxGrpc;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.extensions.mlonnx.v1.TensorMap;
import io.capmesh.proto.client.Completion;
import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.capmesh.runtime.pkg.Repackager;
import io.capmesh.testsupport.ServiceProcess;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged ml runtime as its own process, started as an operator would with its defaults: the bundled ml.onnx
 * over its typed service and over Invoke, answers checked against a plain-Java computation of the shipped model,
 * errors, reflection, health and metrics, and a swap under load. One process serves every test; the swap runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MlRuntimeProcessIT {

    @TempDir
    static Path dir;

    private static ServiceProcess runtime;

    private final Random random = new Random(7);

    @BeforeAll
    static void start() throws Exception {
        runtime = ServiceProcess.start(Path.of(System.getProperty("capmesh.service.jar")), dir.resolve("ml.log"),
                "--capmesh.runtime.data-dir=" + dir.resolve("data"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    @Order(1)
    void describesItsModelAndShowsTheTypedServiceThroughReflection() throws Exception {
        ModelInfo info = onnx().describe(DescribeRequest.getDefaultInstance());

        assertThat(info.getName()).isEqualTo("tiny-classifier");
        assertThat(info.getInputsList()).singleElement().satisfies(input -> {
            assertThat(input.getName()).isEqualTo("features");
            assertThat(input.getDtype()).isEqualTo(DataType.FLOAT);
            assertThat(input.getShapeList()).containsExactly(-1L, 4L);
        });
        assertThat(info.getOutputsList()).extracting(o -> o.getName()).containsExactly("probabilities", "label");
        assertThat(reflect(ServerReflectionRequest.newBuilder().setListServices("").build())
                .getListServicesResponse().getServiceList()).extracting(s -> s.getName())
                .contains("capmesh.ml.onnx.v1.Onnx", "capmesh.v1.RuntimeService", "grpc.health.v1.Health");
        assertThat(reflect(ServerReflectionRequest.newBuilder().setFileContainingSymbol("capmesh.ml.onnx.v1.Onnx")
                .build()).getFileDescriptorResponse().getFileDescriptorProtoCount()).isPositive();
    }

    @Test
    @Order(2)
    void infersOneExampleAndABatchAsThePlainJavaComputationDoes() throws Exception {
        float[][] one = TinyClassifierFunction.randomExamples(random, 1);
        TinyClassifierChecks.assertMatches(one, onnx().infer(request(one)).getOutputsMap());

        float[][] batch = TinyClassifierFunction.randomExamples(random, 64);
        InferResponse typed = onnx().infer(request(batch));
        TinyClassifierChecks.assertMatches(batch, typed.getOutputsMap());

        InferResponse viaInvoke = InferResponse.parseFrom(
                generic().invoke(invoke("infer", request(batch).toByteString())).getPayload());
        assertThat(viaInvoke.getOutputsMap()).isEqualTo(typed.getOutputsMap());

        List<float[][]> items = List.of(TinyClassifierFunction.randomExamples(random, 2),
                TinyClassifierFunction.randomExamples(random, 1), TinyClassifierFunction.randomExamples(random, 3));
        InferBatchRequest.Builder stacked = InferBatchRequest.newBuilder();
        items.forEach(rows -> stacked.addItems(TensorMap.newBuilder()
                .putTensors("features", TinyClassifierChecks.features(rows))));
        InferBatchResponse answers = onnx().inferBatch(stacked.build());
        for (int i = 0; i < items.size(); i++) {
            TinyClassifierChecks.assertMatches(items.get(i), answers.getItems(i).getTensorsMap());
        }
    }

    @Test
    @Order(3)
    void refusesAWrongNameTypeOrShapeSayingWhatTheModelTakes() {
        Tensor features = TinyClassifierChecks.features(TinyClassifierFunction.randomExamples(random, 2));

        assertRefused(InferRequest.newBuilder().putInputs("x", features).build(), Status.Code.INVALID_ARGUMENT,
                "model tiny-classifier has no input \"x\"; its inputs are \"features\" FLOAT [batch, 4]");
        Tensor integers = features.toBuilder().setDtype(DataType.INT64).clearFloatValues()
                .addAllInt64Values(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L)).build();
        assertRefused(request(integers), Status.Code.INVALID_ARGUMENT,
                "input \"features\" must be FLOAT [batch, 4], got INT64");
        assertRefused(request(features.toBuilder().setShape(1, 8).setShape(0, 1).build()),
                Status.Code.INVALID_ARGUMENT, "input \"features\" must have shape [batch, 4], got [1, 8]");
        assertRefused(request(features).toBuilder().setModel("resnet").build(), Status.Code.NOT_FOUND,
                "no model \"resnet\" here");

        assertThatThrownBy(() -> generic().invoke(invoke("infer", request(features.toBuilder().setShape(1, 3).build())
                .toByteString())))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("must have shape [batch, 4], got [2, 3]");
                });
    }

    @Test
    @Order(4)
    void reportsHealthAndMetricsOverActuator() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + runtime.managementPort() + "/actuator/";

        HttpResponse<String> health = http.send(HttpRequest.newBuilder(URI.create(base + "health")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"UP\"");

        String metrics = http.send(HttpRequest.newBuilder(URI.create(base + "prometheus")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).containsPattern("capmesh_extension_calls_total\\{[^}]*extension=\"ml-onnx\"");
    }

    @Test
    @Order(5)
    void aSwapUnderLoadFailsNoCallAndTheOldVersionIsCollected() throws Exception {
        float[][] rows = TinyClassifierFunction.randomExamples(random, 8);
        InferRequest request = request(rows);
        Map<String, AtomicInteger> servedBy = new ConcurrentHashMap<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicBoolean running = new AtomicBoolean(true);
        ExecutorService callers = Executors.newFixedThreadPool(4);
        try {
            for (int i = 0; i < 4; i++) {
                boolean typed = i % 2 == 0;
                callers.execute(() -> {
                    while (running.get()) {
                        try {
                            InferResponse answer = typed ? onnx().infer(request)
                                    : InferResponse.parseFrom(generic().invoke(invoke("infer", request.toByteString()))
                                            .getPayload());
                            TinyClassifierChecks.assertMatches(rows, answer.getOutputsMap());
                            servedBy.computeIfAbsent(answer.getVersion(), v -> new AtomicInteger()).incrementAndGet();
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }
                });
            }
            Thread.sleep(300);
            SwapResponse swapped = PackageUpload.swap(RuntimeServiceGrpc.newStub(runtime.channel()),
                    DeployHeader.getDefaultInstance(), Repackager.withVersion(bundledJar(), "1.0.1"),
                    Duration.ofSeconds(60));
            Thread.sleep(300);
            running.set(false);
            callers.shutdown();
            assertThat(callers.awaitTermination(30, TimeUnit.SECONDS)).isTrue();

            assertThat(failures).isEmpty();
            assertThat(servedBy.keySet()).isEqualTo(Set.of("1.0.0", "1.0.1"));
            assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.0.1");
            Reclamation old = swapped.getPrevious().getReclamation();
            assertThat(old.getState()).as("%s", old).isEqualTo(Reclamation.State.COLLECTED);
            assertThat(onnx().describe(DescribeRequest.getDefaultInstance()).getVersion()).isEqualTo("1.0.1");
        } finally {
            running.set(false);
            callers.shutdownNow();
        }
    }

    private static OnnxGrpc.OnnxBlockingStub onnx() {
        return OnnxGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static RuntimeServiceGrpc.RuntimeServiceBlockingStub generic() {
        return RuntimeServiceGrpc.newBlockingStub(runtime.channel()).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static void assertRefused(InferRequest request, Status.Code code, String message) {
        assertThatThrownBy(() -> onnx().infer(request)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(code);
            assertThat(e.getStatus().getDescription()).startsWith(message);
        });
    }

    private static InferRequest request(float[][] rows) {
        return request(TinyClassifierChecks.features(rows));
    }

    private static InferRequest request(Tensor features) {
        return InferRequest.newBuilder().putInputs("features", features).build();
    }

    private static InvokeRequest invoke(String method, ByteString payload) {
        return InvokeRequest.newBuilder().setCapability("ml.onnx").setMethod(method).setPayload(payload).build();
    }

    private static ServerReflectionResponse reflect(ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(runtime.channel())
                .serverReflectionInfo(Completion.of(answer));
        requests.onNext(request);
        requests.onCompleted();
        return answer.get(10, TimeUnit.SECONDS);
    }

    private static byte[] bundledJar() throws Exception {
        try (InputStream in = MlRuntimeProcessIT.class.getClassLoader()
                .getResourceAsStream("capmesh/extensions/capmesh-ext-ml-onnx.jar")) {
            return in.readAllBytes();
        }
    }
}
