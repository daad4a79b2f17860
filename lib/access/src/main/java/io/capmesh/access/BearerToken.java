package io.capmesh.access;

import io.capmesh.proto.client.CallHeaders;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Objects;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/** Call credentials that send a bearer token in the {@code authorization} header: use them over TLS. */
public final class BearerToken extends CallCredentials {

    private final Supplier<String> token;

    private BearerToken(Supplier<String> token) {
        this.token = token;
    }

    public static BearerToken of(String token) {
        Objects.requireNonNull(token, "token");
        return new BearerToken(() -> token);
    }

    /** The token in a file, read again whenever the file changes (a renewed token, a rotated Secret). */
    public static BearerToken fromFile(Path file) {
        return new BearerToken(new Supplier<>() {
            private FileTime readAt;
            private String value;

            @Override
            public synchronized String get() {
                try {
                    FileTime modified = Files.getLastModifiedTime(file);
                    if (!modified.equals(readAt)) {
                        value = Files.readString(file, StandardCharsets.US_ASCII).trim();
                        readAt = modified;
                    }
                    return value;
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read the bearer token in " + file + ": " + e, e);
                }
            }
        });
    }

    @Override
    public void applyRequestMetadata(RequestInfo request, Executor executor, MetadataApplier applier) {
        try {
            Metadata headers = new Metadata();
            headers.put(CallHeaders.AUTHORIZATION, "Bearer " + token.get());
            applier.apply(headers);
        } catch (RuntimeException e) {
            applier.fail(Status.UNAUTHENTICATED.withDescription(e.getMessage()).withCause(e));
        }
    }
}
