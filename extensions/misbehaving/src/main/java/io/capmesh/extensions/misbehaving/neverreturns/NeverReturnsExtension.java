package io.capmesh.extensions.misbehaving.neverreturns;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.Invocation;

/**
 * {@code hang} never returns and swallows interrupts, so only a deadline (not cancellation) ends the call for its
 * caller; {@code ok} returns the payload, to show other calls are still served meanwhile.
 */
public final class NeverReturnsExtension implements Extension {

    @Override
    public byte[] invoke(Invocation invocation) {
        return switch (invocation.method()) {
            case "hang" -> hangForever();
            case "ok" -> invocation.payload();
            default -> throw CapabilityException.notFound("test.never-returns has no method " + invocation.method());
        };
    }

    private static byte[] hangForever() {
        while (true) {
            try {
                Thread.sleep(1_000);
            } catch (InterruptedException ignored) {
                // Deliberately ignored (and the interrupt flag dropped): keep waiting.
            }
        }
    }
}
