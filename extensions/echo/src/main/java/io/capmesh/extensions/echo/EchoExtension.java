package io.capmesh.extensions.echo;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import io.capmesh.extensions.echo.v1.EchoGrpc;
import io.capmesh.extensions.echo.v1.EchoReply;
import io.capmesh.extensions.echo.v1.EchoRequest;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * {@code core.echo}: {@code echo} returns the payload unchanged; {@code hold} waits for the number of
 * milliseconds given as its (decimal, UTF-8) payload, then answers {@code "<version> <payload>"} with the version
 * this instance was started as. {@code hold} keeps calls in flight on purpose, to show that a swap lets them
 * finish on the version they started on.
 *
 * <p>It also contributes the typed service {@code capmesh.core.echo.v1.Echo}, whose {@code Echo} answers with the
 * request's text and the version that answered.
 */
public final class EchoExtension implements Extension {

    private static final long MAX_HOLD_MILLIS = 60_000;

    private volatile String version = "unknown";
    private volatile List<ServerServiceDefinition> services = List.of();

    @Override
    public void start(ExtensionContext context) {
        version = context.version();
        services = List.of(new TypedEcho(version).bindService());
    }

    @Override
    public List<ServerServiceDefinition> services() {
        return services;
    }

    @Override
    public byte[] invoke(Invocation invocation) throws InterruptedException {
        return switch (invocation.method()) {
            case "echo" -> invocation.payload();
            case "hold" -> {
                Thread.sleep(holdMillis(invocation.payload()));
                yield (version + " " + new String(invocation.payload(), StandardCharsets.UTF_8))
                        .getBytes(StandardCharsets.UTF_8);
            }
            default -> throw CapabilityException.notFound("core.echo has no method " + invocation.method());
        };
    }

    private static long holdMillis(byte[] payload) {
        String text = new String(payload, StandardCharsets.UTF_8).trim();
        try {
            long millis = Long.parseLong(text);
            if (millis < 0 || millis > MAX_HOLD_MILLIS) {
                throw CapabilityException.invalidArgument(
                        "hold takes 0 to " + MAX_HOLD_MILLIS + " milliseconds, got " + millis);
            }
            return millis;
        } catch (NumberFormatException e) {
            throw CapabilityException.invalidArgument(
                    "hold takes a whole number of milliseconds as its payload, got '" + text + "'");
        }
    }

    /** {@code capmesh.core.echo.v1.Echo}, answering as the version it was built for. */
    private static final class TypedEcho extends EchoGrpc.EchoImplBase {
        private final String version;

        TypedEcho(String version) {
            this.version = version;
        }

        @Override
        public void echo(EchoRequest request, StreamObserver<EchoReply> observer) {
            observer.onNext(EchoReply.newBuilder().setText(request.getText()).setVersion(version).build());
            observer.onCompleted();
        }
    }
}
