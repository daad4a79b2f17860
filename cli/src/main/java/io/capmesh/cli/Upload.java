package io.capmesh.cli;

import io.capmesh.proto.client.PackageUpload;
import io.capmesh.proto.v1.DeployHeader;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc.RuntimeServiceStub;
import io.capmesh.proto.v1.SwapResponse;
import io.grpc.StatusRuntimeException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/** A jar to a runtime's Deploy or Swap through {@link PackageUpload}, with its sha256 so the runtime checks it. */
final class Upload {

    private Upload() {
    }

    /** @throws StatusRuntimeException with the runtime's answer when it refused the package */
    static DeployResponse deploy(RuntimeServiceStub stub, ExtensionJar jar, Duration timeout) {
        return answer(() -> PackageUpload.deploy(stub, header(jar), jar.bytes(), timeout));
    }

    /** @throws StatusRuntimeException with the runtime's answer when it refused the package */
    static SwapResponse swap(RuntimeServiceStub stub, ExtensionJar jar, Duration timeout) {
        return answer(() -> PackageUpload.swap(stub, header(jar), jar.bytes(), timeout));
    }

    private static <R> R answer(Supplier<R> upload) {
        R answer;
        try {
            answer = upload.get();
        } catch (StatusRuntimeException refused) {
            throw refused;
        } catch (IllegalStateException notAnswered) { // no answer in time, or interrupted
            throw CliFailure.failed(notAnswered.getMessage()
                    + (notAnswered.getCause() instanceof TimeoutException ? " (raise it with --timeout)" : ""));
        }
        if (answer == null) {
            throw CliFailure.failed("the runtime ended the call without an answer");
        }
        return answer;
    }

    private static DeployHeader header(ExtensionJar jar) {
        try {
            return DeployHeader.newBuilder().setFileName(jar.fileName())
                    .setSha256(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(jar.bytes())))
                    .build();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
