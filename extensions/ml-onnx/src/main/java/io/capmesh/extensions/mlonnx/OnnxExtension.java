package io.capmesh.extensions.mlonnx;

import ai.onnxruntime.OrtEnvironment;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.mlonnx.v1.DescribeRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchRequest;
import io.capmesh.extensions.mlonnx.v1.InferBatchResponse;
import io.capmesh.extensions.mlonnx.v1.InferRequest;
import io.capmesh.extensions.mlonnx.v1.InferResponse;
import io.capmesh.extensions.mlonnx.v1.ModelInfo;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.extensions.mlonnx.v1.TensorMap;
import io.grpc.ServerServiceDefinition;
import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ml.onnx}: the ONNX models this jar ships (resources {@code models/<name>.onnx}), each opened from its bytes
 * and warmed up at start and closed at close, so a swap brings its own models and releases the old ones.
 *
 * <p>Methods take and answer the binary protobuf messages of {@code capmesh.ml.onnx.v1}: {@code describe}
 * ({@code DescribeRequest} to {@code ModelInfo}), {@code infer} ({@code InferRequest} to {@code InferResponse}) and
 * {@code infer-batch} ({@code InferBatchRequest} to {@code InferBatchResponse}); the typed service
 * {@code capmesh.ml.onnx.v1.Onnx} offers the same. ONNX Runtime comes from the tier's host: its native library can be
 * loaded only once per JVM, so no extension may bring its own.
 *
 * <p>Settings: {@code max-concurrent-runs} per model (default: one per core), {@code max-wait-millis} for a turn
 * (default 100) and {@code intra-op-threads} per run (default 1).
 */
public final class OnnxExtension implements Extension {

    /** The models this jar ships; the first is the default. */
    static final List<String> MODELS = List.of("tiny-classifier");

    private volatile String version = "unknown";
    private volatile Map<String, Model> models = Map.of();
    private volatile List<ServerServiceDefinition> services = List.of();

    @Override
    public void start(ExtensionContext context) throws Exception {
        version = context.version();
        OrtEnvironment env = context.hostService(OrtEnvironment.class, "").orElseGet(OrtEnvironment::getEnvironment);
        Model.Limits limits = Model.Limits.from(context.settings());
        Map<String, Model> opened = new LinkedHashMap<>();
        try {
            for (String name : MODELS) {
                opened.put(name, Model.open(name, modelBytes(name), env, limits));
            }
        } catch (Exception | Error e) {
            for (Model model : opened.values()) {
                model.close();
            }
            throw e;
        }
        models = opened;
        services = List.of(new OnnxService(this).bindService());
    }

    @Override
    public List<ServerServiceDefinition> services() {
        return services;
    }

    @Override
    public byte[] invoke(Invocation invocation) throws Exception {
        byte[] payload = invocation.payload();
        return switch (invocation.method()) {
            case "describe" -> describe(parse(DescribeRequest.parser(), payload)).toByteArray();
            case "infer" -> infer(parse(InferRequest.parser(), payload)).toByteArray();
            case "infer-batch" -> inferBatch(parse(InferBatchRequest.parser(), payload)).toByteArray();
            default -> throw CapabilityException.notFound("ml.onnx has no method " + invocation.method()
                    + "; it has describe, infer and infer-batch");
        };
    }

    ModelInfo describe(DescribeRequest request) {
        return model(request.getModel()).info().toBuilder().setVersion(version).addAllModels(MODELS).build();
    }

    InferResponse infer(InferRequest request) throws InterruptedException {
        Model model = model(request.getModel());
        return InferResponse.newBuilder().setModel(model.name()).setVersion(version)
                .putAllOutputs(model.infer(request.getInputsMap(), request.getOutputsList())).build();
    }

    InferBatchResponse inferBatch(InferBatchRequest request) throws InterruptedException {
        Model model = model(request.getModel());
        List<Map<String, Tensor>> answers = model.inferBatch(
                request.getItemsList().stream().map(TensorMap::getTensorsMap).toList(), request.getOutputsList());
        InferBatchResponse.Builder response =
                InferBatchResponse.newBuilder().setModel(model.name()).setVersion(version);
        answers.forEach(outputs -> response.addItems(TensorMap.newBuilder().putAllTensors(outputs)));
        return response.build();
    }

    Model model(String name) {
        Map<String, Model> loaded = models;
        Model model = loaded.get(name.isEmpty() ? MODELS.get(0) : name);
        if (model == null) {
            throw CapabilityException.notFound("no model \"" + name + "\" here; ml.onnx " + version + " serves "
                    + String.join(", ", MODELS));
        }
        return model;
    }

    @Override
    public void close() throws Exception {
        services = List.of();
        Map<String, Model> open = models;
        models = Map.of();
        for (Model model : open.values()) {
            model.close();
        }
    }

    private static <T extends MessageLite> T parse(Parser<T> parser, byte[] payload) {
        try {
            return parser.parseFrom(payload);
        } catch (InvalidProtocolBufferException e) {
            throw CapabilityException.invalidArgument("the payload is not the binary protobuf message this method "
                    + "takes (capmesh.ml.onnx.v1): " + e.getMessage());
        }
    }

    private static byte[] modelBytes(String name) throws IOException {
        try (InputStream in = OnnxExtension.class.getResourceAsStream("/models/" + name + ".onnx")) {
            if (in == null) {
                throw new IllegalStateException("models/" + name + ".onnx is missing from the extension jar");
            }
            return in.readAllBytes();
        }
    }
}
