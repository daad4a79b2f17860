package io.capmesh.extensions.misbehaving.shutdownhook;

/** A hook thread defined by the extension: registered, never started until exit, and never removed. */
final class LeakyShutdownHook extends Thread {

    LeakyShutdownHook() {
        super("leaky-shutdown-hook");
    }

    @Override
    public void run() {
    }
}
