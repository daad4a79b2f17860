package io.capmesh.extensions.mlonnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.TensorInfo;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extensions.mlonnx.v1.DataType;
import io.capmesh.extensions.mlonnx.v1.Tensor;
import io.capmesh.extensions.mlonnx.v1.TensorSpec;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Wire tensors in and out of ONNX Runtime: checked against what the model declares before anything native is
 * touched, so a wrong request is answered with what was expected instead of a runtime's internal message.
 */
final class Tensors {

    private Tensors() {
    }

    /** What the model declares for one input or output; only dense tensors of the wire's types are served. */
    static TensorSpec spec(String model, String name, NodeInfo node) {
        if (!(node.getInfo() instanceof TensorInfo info) || dataType(info.type) == DataType.DATA_TYPE_UNSPECIFIED) {
            throw new IllegalStateException("model " + model + ": " + name + " is " + node.getInfo()
                    + "; only FLOAT, DOUBLE, INT32 and INT64 tensors can be served");
        }
        TensorSpec.Builder spec = TensorSpec.newBuilder().setName(name).setDtype(dataType(info.type));
        String[] dimensionNames = info.getDimensionNames();
        long[] shape = info.getShape();
        for (int i = 0; i < shape.length; i++) {
            spec.addShape(shape[i]).addDimensionNames(i < dimensionNames.length ? dimensionNames[i] : "");
        }
        return spec.build();
    }

    /** Checks a request's tensor against the model's input {@code spec}; {@code where} prefixes the messages. */
    static void check(String where, Tensor tensor, TensorSpec spec) {
        String input = where + "input \"" + spec.getName() + "\"";
        if (tensor.getDtype() != spec.getDtype()) {
            throw invalid(input + " must be " + spec.getDtype() + " " + shapeOf(spec) + ", got " + tensor.getDtype());
        }
        for (DataType carried : List.of(DataType.FLOAT, DataType.DOUBLE, DataType.INT32, DataType.INT64)) {
            if (carried != tensor.getDtype() && valueCount(tensor, carried) > 0) {
                throw invalid(input + " is " + tensor.getDtype() + " but carries " + carried + " values");
            }
        }
        boolean fits = tensor.getShapeCount() == spec.getShapeCount();
        for (int i = 0; fits && i < spec.getShapeCount(); i++) {
            long size = tensor.getShape(i);
            fits = size >= 0 && (spec.getShape(i) < 0 || spec.getShape(i) == size);
        }
        if (!fits) {
            throw invalid(input + " must have shape " + shapeOf(spec) + ", got " + tensor.getShapeList());
        }
        long needed = elements(tensor.getShapeList(), 0);
        if (needed != valueCount(tensor, tensor.getDtype())) {
            throw invalid(input + " of shape " + tensor.getShapeList() + " needs " + needed + " "
                    + tensor.getDtype() + " values, got " + valueCount(tensor, tensor.getDtype()));
        }
    }

    /** A checked wire tensor as ONNX Runtime's; the caller closes it. */
    static OnnxTensor toOnnx(OrtEnvironment env, Tensor tensor) throws OrtException {
        long[] shape = tensor.getShapeList().stream().mapToLong(Long::longValue).toArray();
        return switch (tensor.getDtype()) {
            case FLOAT -> {
                float[] values = new float[tensor.getFloatValuesCount()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = tensor.getFloatValues(i);
                }
                yield OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
            }
            case DOUBLE -> OnnxTensor.createTensor(env, DoubleBuffer.wrap(
                    tensor.getDoubleValuesList().stream().mapToDouble(Double::doubleValue).toArray()), shape);
            case INT32 -> OnnxTensor.createTensor(env, IntBuffer.wrap(
                    tensor.getInt32ValuesList().stream().mapToInt(Integer::intValue).toArray()), shape);
            case INT64 -> OnnxTensor.createTensor(env, LongBuffer.wrap(
                    tensor.getInt64ValuesList().stream().mapToLong(Long::longValue).toArray()), shape);
            default -> throw new IllegalArgumentException("unchecked tensor of type " + tensor.getDtype());
        };
    }

    /** An ONNX Runtime output as a wire tensor. */
    static Tensor fromOnnx(String name, OnnxTensor value) {
        TensorInfo info = value.getInfo();
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(dataType(info.type));
        for (long size : info.getShape()) {
            tensor.addShape(size);
        }
        switch (info.type) {
            case FLOAT -> {
                FloatBuffer values = value.getFloatBuffer();
                while (values.hasRemaining()) {
                    tensor.addFloatValues(values.get());
                }
            }
            case DOUBLE -> {
                DoubleBuffer values = value.getDoubleBuffer();
                while (values.hasRemaining()) {
                    tensor.addDoubleValues(values.get());
                }
            }
            case INT32 -> {
                IntBuffer values = value.getIntBuffer();
                while (values.hasRemaining()) {
                    tensor.addInt32Values(values.get());
                }
            }
            case INT64 -> {
                LongBuffer values = value.getLongBuffer();
                while (values.hasRemaining()) {
                    tensor.addInt64Values(values.get());
                }
            }
            default -> throw new IllegalStateException("output " + name + " is " + info.type);
        }
        return tensor.build();
    }

    /** A tensor of zeros that fits {@code spec}, with 1 for every dimension of any size: the warm-up input. */
    static Tensor zeros(TensorSpec spec) {
        Tensor.Builder tensor = Tensor.newBuilder().setDtype(spec.getDtype());
        spec.getShapeList().forEach(size -> tensor.addShape(Math.max(size, 1)));
        long count = elements(tensor.getShapeList(), 0);
        for (long i = 0; i < count; i++) {
            switch (spec.getDtype()) {
                case FLOAT -> tensor.addFloatValues(0);
                case DOUBLE -> tensor.addDoubleValues(0);
                case INT32 -> tensor.addInt32Values(0);
                default -> tensor.addInt64Values(0);
            }
        }
        return tensor.build();
    }

    /** Checked tensors of one input stacked along the first dimension (row-major: their values, one after another). */
    static Tensor stack(String name, List<Tensor> parts) {
        Tensor first = parts.get(0);
        List<Long> rest = first.getShapeList().subList(1, first.getShapeCount());
        Tensor.Builder stacked = Tensor.newBuilder().setDtype(first.getDtype()).addShape(0).addAllShape(rest);
        long rows = 0;
        for (int i = 0; i < parts.size(); i++) {
            Tensor part = parts.get(i);
            if (!part.getShapeList().subList(1, part.getShapeCount()).equals(rest)) {
                throw invalid("item " + i + ": input \"" + name + "\" has shape " + part.getShapeList()
                        + " but item 0 has " + first.getShapeList() + "; items may differ in the first dimension only");
            }
            rows += part.getShape(0);
            stacked.addAllFloatValues(part.getFloatValuesList()).addAllDoubleValues(part.getDoubleValuesList())
                    .addAllInt32Values(part.getInt32ValuesList()).addAllInt64Values(part.getInt64ValuesList());
        }
        return stacked.setShape(0, rows).build();
    }

    /** Rows {@code [from, from + rows)} of a tensor along its first dimension. */
    static Tensor rows(Tensor tensor, long from, long rows) {
        long rowSize = elements(tensor.getShapeList(), 1);
        int start = Math.toIntExact(from * rowSize);
        int end = Math.toIntExact((from + rows) * rowSize);
        Tensor.Builder slice = Tensor.newBuilder().setDtype(tensor.getDtype()).addShape(rows)
                .addAllShape(tensor.getShapeList().subList(1, tensor.getShapeCount()));
        switch (tensor.getDtype()) {
            case FLOAT -> slice.addAllFloatValues(tensor.getFloatValuesList().subList(start, end));
            case DOUBLE -> slice.addAllDoubleValues(tensor.getDoubleValuesList().subList(start, end));
            case INT32 -> slice.addAllInt32Values(tensor.getInt32ValuesList().subList(start, end));
            default -> slice.addAllInt64Values(tensor.getInt64ValuesList().subList(start, end));
        }
        return slice.build();
    }

    /** {@code FLOAT [batch, 4]}: how messages show a spec. */
    static String describe(TensorSpec spec) {
        return "\"" + spec.getName() + "\" " + spec.getDtype() + " " + shapeOf(spec);
    }

    private static String shapeOf(TensorSpec spec) {
        List<String> sizes = new ArrayList<>();
        for (int i = 0; i < spec.getShapeCount(); i++) {
            String name = i < spec.getDimensionNamesCount() ? spec.getDimensionNames(i) : "";
            sizes.add(spec.getShape(i) >= 0 ? Long.toString(spec.getShape(i)) : name.isEmpty() ? "?" : name);
        }
        return sizes.toString();
    }

    private static long elements(List<Long> shape, int from) {
        long count = 1;
        for (long size : shape.subList(from, shape.size())) {
            try {
                count = Math.multiplyExact(count, size);
            } catch (ArithmeticException e) {
                throw invalid("shape " + shape + " has more elements than any tensor can hold");
            }
        }
        return count;
    }

    private static int valueCount(Tensor tensor, DataType type) {
        return switch (type) {
            case FLOAT -> tensor.getFloatValuesCount();
            case DOUBLE -> tensor.getDoubleValuesCount();
            case INT32 -> tensor.getInt32ValuesCount();
            case INT64 -> tensor.getInt64ValuesCount();
            default -> 0;
        };
    }

    private static DataType dataType(OnnxJavaType type) {
        return switch (type) {
            case FLOAT -> DataType.FLOAT;
            case DOUBLE -> DataType.DOUBLE;
            case INT32 -> DataType.INT32;
            case INT64 -> DataType.INT64;
            default -> DataType.DATA_TYPE_UNSPECIFIED;
        };
    }

    static CapabilityException invalid(String message) {
        return CapabilityException.invalidArgument(message);
    }
}
