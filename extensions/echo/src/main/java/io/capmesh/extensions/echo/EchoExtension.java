package io.capmesh.extensions.echo;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;

/**
 * {@code core.echo}: {@code echo} returns the payload unchanged; {@code hold} waits for the number of
 * milliseconds given as its (decimal, UTF-8) payload, then answers {@code "<version> <payload>"} with the version
 * this instance was started as. {@code hold} keeps calls in flight on purpose, to show that a swap lets them
 * finish on the version they started on.
 */
public final class EchoExtension implements Extension {

    private static final long MAX_HOLD_MILLIS = 60_000;

    private volatile String version = "unknown";

    @Override
    public void start(ExtensionContext context) {
        version = context.version();
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
}
