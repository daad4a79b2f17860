package io.capmesh.extensions.compress;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.zip.GZIPOutputStream;

/** Test helpers: calling the extension, making inputs, and measuring what a call allocates. */
final class Support {

    record Context(String id, String version, Map<String, String> settings) implements ExtensionContext {
    }

    private Support() {
    }

    static CompressExtension started(Map<String, String> settings) {
        CompressExtension extension = new CompressExtension();
        extension.start(new Context("core-compress", "1.0.0", settings));
        return extension;
    }

    static byte[] call(CompressExtension extension, String method, byte[] payload) throws Exception {
        return call(extension, method, payload, Map.of());
    }

    static byte[] call(CompressExtension extension, String method, byte[] payload, Map<String, String> attributes)
            throws Exception {
        return extension.invoke(new Invocation("core.compress", method, payload, attributes));
    }

    static CapabilityException failure(Callable<?> call) {
        return catchThrowableOfType(call::call, CapabilityException.class);
    }

    static byte[] random(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static byte[] text(int size) {
        StringBuilder text = new StringBuilder();
        for (int line = 0; text.length() < size; line++) {
            text.append("line ").append(line).append(": the quick brown fox jumps over the lazy dog\n");
        }
        return text.substring(0, size).getBytes(StandardCharsets.US_ASCII);
    }

    /** gzip from the JDK directly, written in 1 MiB pieces so that even a GiB of zeros never sits in memory. */
    static byte[] jdkGzipOfZeros(long count) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gzip = new GZIPOutputStream(out, 1 << 16)) {
            writeZeros(gzip, count);
        }
        return out.toByteArray();
    }

    static void writeZeros(OutputStream out, long count) throws IOException {
        byte[] zeros = new byte[1 << 20];
        for (long left = count; left > 0; left -= zeros.length) {
            out.write(zeros, 0, (int) Math.min(zeros.length, left));
        }
    }

    /** Bytes allocated on this thread while {@code call} runs (HotSpot counts every TLAB and large allocation). */
    static long allocatedDuring(Runnable call) {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        call.run();
        return threads.getCurrentThreadAllocatedBytes() - before;
    }
}
