package io.capmesh.runtime.isolation;

import io.capmesh.runtime.Problem;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Status;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a runtime and the child JVM it starts say to each other before calls flow: the runtime writes a
 * {@link Config} to the child's standard input (never its command line, which any local user can read), and the
 * child answers with one line on its standard output, {@link Ready} or failed. After that the child's output is
 * only its log, and its standard input stays open until the runtime stops it or dies.
 */
final class ChildProtocol {

    static final String READY = "capmesh-child-ready ";
    /** A trailer on every answer the child gives, so the runtime tells its answers from a lost connection. */
    static final io.grpc.Metadata.Key<String> ANSWERED =
            io.grpc.Metadata.Key.of("capmesh-child-answered", io.grpc.Metadata.ASCII_STRING_MARSHALLER);
    static final String FAILED = "capmesh-child-failed ";

    private ChildProtocol() {
    }

    /**
     * Everything the child needs to host one extension.
     *
     * @param manifestJson the extension's manifest, as it is to be loaded inside the child (in-process there)
     */
    record Config(byte[] manifestJson, String source, String jar, String sha256, long size,
                  Map<String, String> settings, List<String> tierPackages, long maxCallMillis,
                  int maxConcurrentCalls, int maxPayloadBytes) {

        void write(DataOutputStream out) throws IOException {
            out.writeInt(manifestJson.length);
            out.write(manifestJson);
            out.writeUTF(source);
            out.writeUTF(jar);
            out.writeUTF(sha256);
            out.writeLong(size);
            out.writeInt(settings.size());
            for (Map.Entry<String, String> setting : settings.entrySet()) {
                out.writeUTF(setting.getKey());
                out.writeUTF(setting.getValue());
            }
            out.writeInt(tierPackages.size());
            for (String prefix : tierPackages) {
                out.writeUTF(prefix);
            }
            out.writeLong(maxCallMillis);
            out.writeInt(maxConcurrentCalls);
            out.writeInt(maxPayloadBytes);
            out.flush();
        }

        static Config read(DataInputStream in) throws IOException {
            byte[] manifest = in.readNBytes(in.readInt());
            String source = in.readUTF();
            String jar = in.readUTF();
            String sha256 = in.readUTF();
            long size = in.readLong();
            Map<String, String> settings = new LinkedHashMap<>();
            for (int n = in.readInt(); n > 0; n--) {
                settings.put(in.readUTF(), in.readUTF());
            }
            List<String> tierPackages = new ArrayList<>();
            for (int n = in.readInt(); n > 0; n--) {
                tierPackages.add(in.readUTF());
            }
            return new Config(manifest, source, jar, sha256, size, settings, tierPackages, in.readLong(),
                    in.readInt(), in.readInt());
        }
    }

    /** One method of a typed service the extension contributes. */
    record Method(String fullName, MethodType type) {
    }

    /**
     * The child serves.
     *
     * @param descriptors a serialized {@code FileDescriptorSet} of the typed services' schemas (empty when none has
     *                    one), so the runtime's reflection can describe them
     */
    record Ready(int port, List<Method> methods, byte[] descriptors) {

        String line() {
            StringBuilder line = new StringBuilder(READY).append(port).append(' ');
            line.append(methods.isEmpty() ? "-" : String.join(",", methods.stream()
                    .map(m -> m.fullName() + "=" + m.type().name()).toList()));
            return line.append(' ').append(Base64.getEncoder().encodeToString(descriptors)).toString();
        }

        static Ready parse(String line) {
            String[] parts = line.substring(READY.length()).split(" ", -1);
            List<Method> methods = new ArrayList<>();
            if (!parts[1].equals("-")) {
                for (String method : parts[1].split(",")) {
                    int eq = method.lastIndexOf('=');
                    methods.add(new Method(method.substring(0, eq), MethodType.valueOf(method.substring(eq + 1))));
                }
            }
            return new Ready(Integer.parseInt(parts[0]), methods, Base64.getDecoder().decode(parts[2]));
        }
    }

    /** The child could not load its extension: the problem, as the loader reported it. */
    static String failedLine(Problem problem) {
        return FAILED + problem.code().name() + " " + Base64.getEncoder()
                .encodeToString(problem.message().getBytes(StandardCharsets.UTF_8));
    }

    static Problem parseFailed(String line) {
        String[] parts = line.substring(FAILED.length()).split(" ", 2);
        return new Problem(Status.Code.valueOf(parts[0]),
                new String(Base64.getDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    }
}
