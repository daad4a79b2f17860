package io.capmesh.extensions.compress;

import io.airlift.compress.MalformedInputException;
import io.airlift.compress.zstd.ZstdCompressor;
import io.airlift.compress.zstd.ZstdInputStream;
import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.CapabilityException.Reason;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * {@code core.compress}: {@code gzip} and {@code zstd} compress the payload; {@code gunzip} and {@code unzstd}
 * decompress it. All in pure Java: the JDK's {@code java.util.zip} and aircompressor's zstd.
 *
 * <p>Decompression streams into a buffer that refuses to grow past a limit, so a small bomb is stopped after
 * the limit's worth of output rather than inflated whole. The limit is 16 MiB, or the operator's
 * {@code max-output-bytes} setting; a call may lower it for itself with the attribute {@code max-output-bytes}.
 */
public final class CompressExtension implements Extension {

    static final String MAX_OUTPUT_BYTES = "max-output-bytes";
    static final long DEFAULT_MAX_OUTPUT_BYTES = 16L << 20;
    static final List<String> METHODS = List.of("gzip", "gunzip", "zstd", "unzstd");

    /** The largest array a JVM will allocate; the output is answered as one. */
    private static final long LARGEST_OUTPUT = Integer.MAX_VALUE - 8;
    private static final int CHUNK = 64 * 1024;
    private static final byte[] GZIP_MAGIC = {0x1f, (byte) 0x8b};
    private static final byte[] ZSTD_MAGIC = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd};

    private volatile long ceiling = DEFAULT_MAX_OUTPUT_BYTES;

    @Override
    public void start(ExtensionContext context) {
        String configured = context.settings().get(MAX_OUTPUT_BYTES);
        if (configured != null) {
            ceiling = parseLimit(configured, "the setting " + MAX_OUTPUT_BYTES);
        }
    }

    @Override
    public byte[] invoke(Invocation invocation) throws IOException {
        byte[] payload = invocation.payload();
        return switch (invocation.method()) {
            case "gzip" -> gzip(payload);
            case "gunzip" -> gunzip(payload, limitFor(invocation));
            case "zstd" -> zstd(payload);
            case "unzstd" -> unzstd(payload, limitFor(invocation));
            default -> throw CapabilityException.notFound("core.compress has no method '" + invocation.method()
                    + "'; its methods are " + String.join(", ", METHODS));
        };
    }

    private static byte[] gzip(byte[] payload) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length / 2 + 64);
        try (GZIPOutputStream gzip = new GZIPOutputStream(out, CHUNK)) {
            gzip.write(payload);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] payload, long limit) throws IOException {
        requireMagic(payload, GZIP_MAGIC, "gzip");
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(payload), CHUNK)) {
            return drain(in, limit);
        } catch (EOFException e) {
            throw CapabilityException.invalidArgument("truncated gzip data: the input ends inside a gzip member");
        } catch (ZipException e) {
            throw CapabilityException.invalidArgument("corrupt gzip data: " + e.getMessage());
        }
    }

    private static byte[] zstd(byte[] payload) {
        ZstdCompressor compressor = new ZstdCompressor();
        byte[] out = new byte[compressor.maxCompressedLength(payload.length)];
        int length = compressor.compress(payload, 0, payload.length, out, 0, out.length);
        return Arrays.copyOf(out, length);
    }

    private static byte[] unzstd(byte[] payload, long limit) {
        requireMagic(payload, ZSTD_MAGIC, "zstd");
        try (InputStream in = new ZstdInputStream(new ByteArrayInputStream(payload))) {
            return drain(in, limit);
        } catch (IOException e) {
            // The input is in memory, so only the decoder itself throws this: the data ends inside a frame.
            throw CapabilityException.invalidArgument("truncated zstd data: " + e.getMessage());
        } catch (MalformedInputException | IllegalStateException | IllegalArgumentException
                 | IndexOutOfBoundsException | ArithmeticException e) {
            // aircompressor reports some corrupt frames with these runtime exceptions rather than its own.
            throw CapabilityException.invalidArgument("corrupt zstd data: " + e.getMessage());
        }
    }

    private static void requireMagic(byte[] payload, byte[] magic, String format) {
        if (payload.length < magic.length || !Arrays.equals(payload, 0, magic.length, magic, 0, magic.length)) {
            throw CapabilityException.invalidArgument(
                    "not " + format + " data: the payload does not start with the " + format + " magic number");
        }
    }

    /** Reads at most {@code limit + 1} bytes, so a bomb costs no more than the limit before it is refused. */
    private static byte[] drain(InputStream in, long limit) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(CHUNK);
        byte[] chunk = new byte[CHUNK];
        long total = 0;
        int read;
        while ((read = in.read(chunk, 0, (int) Math.min(chunk.length, limit - total + 1))) != -1) {
            total += read;
            if (total > limit) {
                throw new CapabilityException(Reason.RESOURCE_EXHAUSTED,
                        "the decompressed output exceeds the limit of " + limit + " bytes (" + MAX_OUTPUT_BYTES + ")");
            }
            out.write(chunk, 0, read);
        }
        return out.toByteArray();
    }

    /** The call's own limit, which may lower the ceiling but never raise it. */
    private long limitFor(Invocation invocation) {
        String requested = invocation.attributes().get(MAX_OUTPUT_BYTES);
        return requested == null
                ? ceiling
                : Math.min(ceiling, parseLimit(requested, "the attribute " + MAX_OUTPUT_BYTES));
    }

    private static long parseLimit(String text, String source) {
        try {
            long limit = Long.parseLong(text.trim());
            if (limit >= 1 && limit <= LARGEST_OUTPUT) {
                return limit;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw CapabilityException.invalidArgument(
                source + " must be a whole number of bytes from 1 to " + LARGEST_OUTPUT + ", got '" + text + "'");
    }
}
