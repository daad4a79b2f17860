package io.capmesh.extensions.misbehaving.selfkill;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.io.IOException;

/**
 * Ends its runtime where no exit guard reaches: a {@code kill -9} of its own process, as a native crash or the
 * kernel's out-of-memory killer would. {@code kill} does it during a call; with the setting
 * {@code kill-on-start=true}, {@code start()} does it at every load, which makes a crash loop of every restart
 * that restores it. {@code ok} answers its payload.
 */
public final class SelfKillExtension implements Extension {

    @Override
    public void start(ExtensionContext context) throws Exception {
        if (Boolean.parseBoolean(context.settings().get("kill-on-start"))) {
            killOwnProcess();
        }
    }

    @Override
    public byte[] invoke(Invocation invocation) throws Exception {
        return switch (invocation.method()) {
            case "kill" -> {
                killOwnProcess();
                yield new byte[0];
            }
            case "ok" -> invocation.payload();
            default -> throw CapabilityException.notFound(invocation.capability() + " has no method "
                    + invocation.method());
        };
    }

    private static void killOwnProcess() throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-9", String.valueOf(ProcessHandle.current().pid())).start().waitFor();
        Thread.sleep(60_000); // the signal is on its way
    }
}
