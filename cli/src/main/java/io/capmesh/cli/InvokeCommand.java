package io.capmesh.cli;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.stub.Acquire;
import io.capmesh.stub.Capabilities;
import io.capmesh.stub.CapabilityCallException;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.stub.CapabilityHandle;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "invoke", sortOptions = false,
        header = "Call a method of a capability.",
        description = {"Call one method of a capability through the thin"
        + " stub: acquire it from the broker, call its runtime directly, print the answer (as text when it is UTF-8,"
        + " else base64) and release the lease.",
        "With --runtime HOST:PORT it calls that runtime directly instead, with no broker and no lease.",
        "The payload is --data, --file, or what arrives on stdin when it is not a terminal (else empty)."})
final class InvokeCommand implements Callable<Integer> {

    @ParentCommand
    private CapmeshCommand top;

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Parameters(index = "0", paramLabel = "CAP[@RANGE]", converter = Wanted.Converter.class,
            description = "The capability, with an optional semver range, e.g. core.json or core.json@^1.")
    private Wanted capability;

    @Parameters(index = "1", paramLabel = "METHOD", description = "The method, e.g. canonicalize.")
    private String method;

    @ArgGroup(exclusive = true)
    private Payload payload;

    static final class Payload {
        @Option(names = "--data", paramLabel = "STRING", description = "The payload, as UTF-8 text.")
        String data;

        @Option(names = "--file", paramLabel = "FILE", description = "Read the payload from a file ('-': stdin).")
        Path file;
    }

    @Option(names = "--attr", paramLabel = "KEY=VALUE",
            description = "An attribute the extension reads next to the payload (repeatable).")
    private Map<String, String> attributes = new LinkedHashMap<>();

    @Option(names = "--account", paramLabel = "ACCOUNT", defaultValue = "cli",
            description = "Whose lease it is (default: ${DEFAULT-VALUE}).")
    private String account;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "10s", converter = Durations.class,
            description = "The deadline of the call at the runtime, and of the acquire (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Option(names = "--runtime", paramLabel = "HOST:PORT",
            description = "Call this runtime directly: no broker, no lease (the version range is not checked).")
    private String runtime;

    @Override
    public Integer call() {
        byte[] request = payload();
        if (runtime != null) {
            return callRuntime(request);
        }
        BrokerAddress broker = target.broker();
        try (CapabilityClient client = CapabilityClient.builder().broker(broker.target()).account(account)
                .credentials(target.credentials())
                .attemptTimeout(timeout).retry(1, Duration.ofMillis(100), Duration.ofMillis(100)).build();
             Capabilities caps = client.acquire(Acquire.require(capability.name(), capability.range())
                     .timeout(timeout))) {
            CapabilityHandle handle = caps.get(capability.name());
            long start = System.nanoTime();
            byte[] answer = handle.invoke(method, request, attributes);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            List<String> replicas = handle.replicas();
            print(handle.name(), handle.version(), replicas.isEmpty() ? "?" : replicas.get(0), answer, took);
        } catch (CapabilityCallException e) {
            throw Remote.failure(e, broker);
        }
        return ExitCode.OK;
    }

    /** The runtime's own Invoke, straight to its address. */
    private int callRuntime(byte[] request) {
        HostPort address;
        try {
            address = HostPort.parse(runtime);
        } catch (IllegalArgumentException e) {
            throw CliFailure.usage("--runtime " + e.getMessage());
        }
        try (Remote remote = Remote.runtime(address, target.credentials())) {
            long start = System.nanoTime();
            InvokeResponse answer = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .invoke(InvokeRequest.newBuilder().setCapability(capability.name()).setMethod(method)
                            .setPayload(ByteString.copyFrom(request)).putAllAttributes(attributes).build());
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            print(capability.name(), answer.getExtensionId() + "@" + answer.getExtensionVersion(), address.toString(),
                    answer.getPayload().toByteArray(), took);
        } catch (StatusRuntimeException e) {
            throw Remote.failure("runtime", address, e.getStatus(), capability.name() + " " + method + " at "
                    + address);
        }
        return ExitCode.OK;
    }

    private byte[] payload() {
        try {
            if (payload != null && payload.data != null) {
                return payload.data.getBytes(StandardCharsets.UTF_8);
            }
            if (payload != null && payload.file != null && !payload.file.toString().equals("-")) {
                return Files.readAllBytes(payload.file);
            }
            if (payload == null && System.console() != null) {
                return new byte[0]; // a person at a terminal gave no payload: do not wait for one
            }
            InputStream in = top.stdin();
            return in.readAllBytes();
        } catch (NoSuchFileException e) {
            throw CliFailure.usage("no such file: " + e.getFile());
        } catch (IOException e) {
            throw CliFailure.usage("cannot read the payload: " + e.getMessage());
        }
    }

    /** @param version the capability's version, or the {@code id@version} of the extension that answered */
    private void print(String name, String version, String endpoint, byte[] answer, Duration took) {
        String text = utf8(answer);
        if (output.json()) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("capability", name);
            json.put("version", version);
            json.put("method", method);
            json.put("endpoint", endpoint);
            json.put("micros", took.toNanos() / 1000);
            json.put("encoding", text != null ? "utf-8" : "base64");
            json.put("payload", text != null ? text : Base64.getEncoder().encodeToString(answer));
            output.json(json);
            return;
        }
        output.note(name + " " + version + " at " + endpoint + ": " + method + " answered " + answer.length + " bytes in " + Durations.brief(took)
                + (text != null ? "" : " (not UTF-8, printed as base64)"));
        output.out().println(text != null ? text : Base64.getEncoder().encodeToString(answer));
        output.out().flush();
    }

    /**
     * The bytes as text, or null when they are not valid UTF-8 or hold control characters other than line breaks
     * and tabs (binary protobuf is often valid UTF-8, and would garble a terminal).
     */
    private static String utf8(byte[] bytes) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        boolean printable = text.chars().allMatch(c -> c == '\n' || c == '\r' || c == '\t'
                || !Character.isISOControl(c));
        return printable ? text : null;
    }
}
