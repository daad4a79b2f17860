package io.capmesh.extensions.mlonnx;

import ai.onnxruntime.OnnxModelMetadata;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.mlonnx.v1.ModelInfo;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.extensions.mlonnx.v1.TensorSpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * One model: its ONNX Runtime session, what it takes and gives, and a limit on runs at once (a session runs
 * concurrently, but every run holds its own buffers and threads, so an unbounded burst would only queue in native
 * code where no deadline reaches it).
 */
final class Model implements AutoCloseable {

    /**
     * How a model runs.
     *
     * @param maxConcurrentRuns runs at once; more are refused with RESOURCE_EXHAUSTED
     * @param maxWait           how long a run waits for its turn before it is refused
     * @param intraOpThreads    threads one run may use (1 suits small models served to many callers; 0: one per core)
     */
    record Limits(int maxConcurrentRuns, Duration maxWait, int intraOpThreads) {

        static Limits from(Map<String, String> settings) {
            return new Limits(
                    number(settings, "max-concurrent-runs", Runtime.getRuntime().availableProcessors(), 1),
                    Duration.ofMillis(number(settings, "max-wait-millis", 100, 0)),
                    number(settings, "intra-op-threads", 1, 0));
        }

        private static int number(Map<String, String> settings, String key, int fallback, int least) {
            String value = settings.get(key);
            try {
                int parsed = value == null ? fallback : Integer.parseInt(value.trim());
                if (parsed >= least) {
                    return parsed;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException("setting " + key + " must be a whole number >= " + least + ", got '"
                    + value + "'");
        }
    }

    private final String name;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, TensorSpec> inputs = new LinkedHashMap<>();
    private final Map<String, TensorSpec> outputs = new LinkedHashMap<>();
    private final Limits limits;
    private final Semaphore runs;
    private final ModelInfo info;

    private Model(String name, OrtEnvironment env, OrtSession session, Limits limits) throws OrtException {
        this.name = name;
        this.env = env;
        this.session = session;
        this.limits = limits;
        this.runs = new Semaphore(limits.maxConcurrentRuns());
        session.getInputInfo().forEach((input, node) -> inputs.put(input, Tensors.spec(name, input, node)));
        session.getOutputInfo().forEach((output, node) -> outputs.put(output, Tensors.spec(name, output, node)));
        OnnxModelMetadata metadata = session.getMetadata();
        this.info = ModelInfo.newBuilder().setName(name).setDescription(metadata.getDescription())
                .setProducer(metadata.getProducerName()).addAllInputs(inputs.values()).addAllOutputs(outputs.values())
                .setMaxConcurrentRuns(limits.maxConcurrentRuns()).build();
    }

    /** Opens the model from its bytes and warms it up with one run, so its first caller pays nothing extra. */
    static Model open(String name, byte[] onnx, OrtEnvironment env, Limits limits) throws Exception {
        OrtSession session;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(limits.intraOpThreads());
            options.setInterOpNumThreads(1);
            session = env.createSession(onnx, options);
        }
        try {
            Model model = new Model(name, env, session, limits);
            Map<String, Tensor> zeros = new LinkedHashMap<>();
            model.inputs.values().forEach(spec -> zeros.put(spec.getName(), Tensors.zeros(spec)));
            model.infer(zeros, List.of());
            return model;
        } catch (Exception | Error e) {
            session.close();
            throw e;
        }
    }

    String name() {
        return name;
    }

    /** Its name, description, producer, inputs, outputs and limit (the extension adds its version). */
    ModelInfo info() {
        return info;
    }

    /** One run: every input by name, checked first; the outputs {@code wanted}, or all when it is empty. */
    Map<String, Tensor> infer(Map<String, Tensor> given, List<String> wanted) throws InterruptedException {
        checkInputs("", given);
        Set<String> requested = outputs(wanted);
        if (!runs.tryAcquire(limits.maxWait().toNanos(), TimeUnit.NANOSECONDS)) {
            throw new CapabilityException(CapabilityException.Reason.RESOURCE_EXHAUSTED, "model " + name
                    + " is running its limit of " + limits.maxConcurrentRuns() + " calls at once; retry with backoff "
                    + "or raise the extension setting max-concurrent-runs");
        }
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Tensor> input : given.entrySet()) {
                feed.put(input.getKey(), Tensors.toOnnx(env, input.getValue()));
            }
            try (OrtSession.Result result = session.run(feed, requested)) {
                Map<String, Tensor> answer = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> output : result) {
                    answer.put(output.getKey(), Tensors.fromOnnx(output.getKey(), (OnnxTensor) output.getValue()));
                }
                return answer;
            }
        } catch (OrtException e) {
            if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
                throw Tensors.invalid("model " + name + " refused the inputs: " + e.getMessage());
            }
            throw new IllegalStateException("model " + name + " failed: " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
            runs.release();
        }
    }

    /**
     * Several requests in one run: stacked along the batch (first) dimension, outputs split back by each request's
     * number of rows. Every input and output of the model must have a batch dimension.
     */
    List<Map<String, Tensor>> inferBatch(List<Map<String, Tensor>> items, List<String> wanted)
            throws InterruptedException {
        if (items.isEmpty()) {
            throw Tensors.invalid("a batch needs at least one item");
        }
        for (TensorSpec spec : Stream.concat(inputs.values().stream(), outputs.values().stream()).toList()) {
            if (spec.getShapeCount() == 0 || spec.getShape(0) >= 0) {
                throw new CapabilityException(CapabilityException.Reason.FAILED_PRECONDITION, "model " + name
                        + ": " + Tensors.describe(spec) + " has no batch dimension, so requests cannot be stacked; "
                        + "call Infer");
            }
        }
        long[] rows = new long[items.size()];
        for (int i = 0; i < items.size(); i++) {
            checkInputs("item " + i + ": ", items.get(i));
            Set<Long> sizes = items.get(i).values().stream().map(t -> t.getShape(0)).collect(Collectors.toSet());
            if (sizes.size() != 1) {
                throw Tensors.invalid("item " + i + ": inputs disagree on the batch (first) dimension: " + sizes);
            }
            rows[i] = sizes.iterator().next();
        }
        Map<String, Tensor> stacked = new LinkedHashMap<>();
        for (String input : inputs.keySet()) {
            stacked.put(input, Tensors.stack(input, items.stream().map(item -> item.get(input)).toList()));
        }
        Map<String, Tensor> all = infer(stacked, wanted);
        List<Map<String, Tensor>> answers = new ArrayList<>();
        long from = 0;
        for (long count : rows) {
            Map<String, Tensor> answer = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> output : all.entrySet()) {
                answer.put(output.getKey(), Tensors.rows(output.getValue(), from, count));
            }
            answers.add(answer);
            from += count;
        }
        return answers;
    }

    private void checkInputs(String where, Map<String, Tensor> given) {
        for (String input : given.keySet()) {
            if (!inputs.containsKey(input)) {
                throw Tensors.invalid(where + "model " + name + " has no input \"" + input + "\"; its inputs are "
                        + specs(inputs));
            }
        }
        for (TensorSpec spec : inputs.values()) {
            Tensor tensor = given.get(spec.getName());
            if (tensor == null) {
                throw Tensors.invalid(where + "missing input " + Tensors.describe(spec) + "; model " + name
                        + " takes " + specs(inputs));
            }
            Tensors.check(where, tensor, spec);
        }
    }

    private Set<String> outputs(List<String> wanted) {
        for (String output : wanted) {
            if (!outputs.containsKey(output)) {
                throw Tensors.invalid("model " + name + " has no output \"" + output + "\"; its outputs are "
                        + specs(outputs));
            }
        }
        return wanted.isEmpty() ? outputs.keySet() : new LinkedHashSet<>(wanted);
    }

    private static String specs(Map<String, TensorSpec> specs) {
        return specs.values().stream().map(Tensors::describe).collect(Collectors.joining(", "));
    }

    /** Frees the session's native memory; without it a swapped-out version would hold the model until exit. */
    @Override
    public void close() throws OrtException {
        session.close();
    }

    /** Test hook: the permits of the concurrency limit. */
    Semaphore runs() {
        return runs;
    }
}
