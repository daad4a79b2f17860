package io.capmesh.extensions.misbehaving.exitinstart;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;

/**
 * Its {@code start()} leaves a thread that ends the JVM a moment after the deploy was acknowledged, by reflection
 * so that the deploy-time scan does not see it; {@code outcome} answers what became of that thread. With the
 * setting {@code exit-during-start=true}, {@code start()} itself exits instead.
 */
public final class ExitInStartExtension implements Extension {

    private volatile String outcome = "waiting";

    @Override
    public void start(ExtensionContext context) throws ReflectiveOperationException {
        if (Boolean.parseBoolean(context.settings().get("exit-during-start"))) {
            Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), 10);
        }
        Thread quitter = new Thread(() -> {
            try {
                Thread.sleep(300);
                Runtime.class.getMethod("halt", int.class).invoke(Runtime.getRuntime(), 9);
                outcome = "halted";
            } catch (ReflectiveOperationException e) {
                outcome = "refused: " + e.getCause();
            } catch (InterruptedException e) {
                outcome = "interrupted";
            }
        }, "exit-in-start");
        quitter.setDaemon(true);
        quitter.start();
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (!invocation.method().equals("outcome")) {
            throw CapabilityException.notFound(invocation.capability() + " has no method " + invocation.method());
        }
        return outcome.getBytes(StandardCharsets.UTF_8);
    }
}
