package io.capmesh.runtime;

import io.capmesh.access.CallAccess;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.reclaim.Reclamation;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.slf4j.spi.LoggingEventBuilder;

/**
 * One log line per change to what a runtime serves, on the logger {@code capmesh.lifecycle}: a readable message,
 * and the same facts as key-value pairs ({@code capmesh.event}, {@code capmesh.extension}, {@code capmesh.version},
 * {@code capmesh.caller}, {@code capmesh.took_ms}, ...), which Spring Boot's structured logging
 * ({@code logging.structured.format.console=ecs|logstash|gelf}) writes as JSON fields.
 */
final class LifecycleLog {

    private static final Logger LOG = LoggerFactory.getLogger("capmesh.lifecycle");

    private LifecycleLog() {
    }

    /** Deployed, loaded on demand, restored at start, or woken from hibernation. */
    static void loaded(String event, LoadedExtension ext) {
        line(Level.INFO, event, ext.manifest().id(), ext.manifest().version(), ext.loadMicros() / 1000,
                event + " " + ext.manifest().coordinates() + " in " + ext.loadMicros() / 1000 + " ms")
                .addKeyValue("capmesh.capabilities", String.join(",", ext.manifest().capabilities().stream()
                        .map(c -> c.name() + "@" + c.version()).toList()))
                .log();
    }

    static void swapped(LoadedExtension old, LoadedExtension now, long swapMicros) {
        line(Level.INFO, "swapped", now.manifest().id(), now.manifest().version(), swapMicros / 1000,
                "swapped " + now.manifest().id() + " from " + old.manifest().version() + " to "
                        + now.manifest().version() + " in " + swapMicros / 1000 + " ms")
                .addKeyValue("capmesh.replaced", old.manifest().version())
                .log();
    }

    static void hibernated(LoadedExtension ext, Duration idle) {
        line(Level.INFO, "hibernated", ext.manifest().id(), ext.manifest().version(), 0,
                "hibernated " + ext.manifest().coordinates() + " after " + idle.toSeconds() + " s without a call")
                .log();
    }

    /** The verdict on an unloaded (swapped out, hibernated) version's classloader, with causes and cleanups. */
    static void verdict(Reclamation verdict) {
        boolean leaked = verdict.state() == Reclamation.State.LEAKED;
        String text = verdict.coordinates() + " " + verdict.state() + (leaked ? ": its classloader is still "
                + "reachable " + verdict.millis() + " ms after the unload began: " + String.join("; ", verdict.causes())
                : " in " + verdict.millis() + " ms")
                + (verdict.cleaned().isEmpty() ? "" : " (cleaned up: " + String.join("; ", verdict.cleaned()) + ")");
        int at = verdict.coordinates().lastIndexOf('@');
        line(leaked ? Level.WARN : Level.INFO, "unloaded", verdict.coordinates().substring(0, at),
                verdict.coordinates().substring(at + 1), verdict.millis(), text)
                .addKeyValue("capmesh.verdict", verdict.state().name())
                .addKeyValue("capmesh.causes", verdict.causes())
                .addKeyValue("capmesh.cleaned", verdict.cleaned())
                .log();
    }

    /** A LEAKED verdict's loader was collected after all. */
    static void collectedLater(Reclamation verdict) {
        int at = verdict.coordinates().lastIndexOf('@');
        line(Level.INFO, "collected-later", verdict.coordinates().substring(0, at),
                verdict.coordinates().substring(at + 1), 0, verdict.coordinates() + ", reported LEAKED, was "
                        + "collected at " + verdict.collectedAt() + ": what held it let go")
                .log();
    }

    /** A stored extension was kept without loading it: a crash loop, or safe mode. */
    static void quarantined(String id, String version, String reason) {
        line(Level.WARN, "quarantined", id, version, 0, "quarantined " + id + "@" + version + ": " + reason)
                .addKeyValue("capmesh.reason", reason)
                .log();
    }

    /** Extension code asked to end the runtime, and was refused. */
    static void exitBlocked(BlockedExit exit) {
        line(Level.WARN, "exit-blocked", exit.extensionId(), exit.version(), 0, exit.coordinates() + " called "
                + exit.call() + " on thread '" + exit.thread() + "'" + (exit.frames().isEmpty() ? ""
                : " at " + exit.frames().get(0)) + "; refused: extensions may not end their runtime")
                .addKeyValue("capmesh.call", exit.call())
                .addKeyValue("capmesh.thread", exit.thread())
                .addKeyValue("capmesh.frames", exit.frames())
                .log();
    }

    private static LoggingEventBuilder line(Level level, String event, String id, String version, long tookMillis,
                                            String message) {
        return LOG.atLevel(level).setMessage(message)
                .addKeyValue("capmesh.event", event)
                .addKeyValue("capmesh.extension", id)
                .addKeyValue("capmesh.version", version)
                .addKeyValue("capmesh.caller", caller())
                .addKeyValue("capmesh.took_ms", tookMillis);
    }

    /** Who asked: the principal of the call in progress, or the runtime itself (a start, an idle sweep). */
    private static String caller() {
        CallAccess access = CallAccess.current();
        if (access != null) {
            return access.principal().name();
        }
        return io.grpc.Context.current() == io.grpc.Context.ROOT ? "runtime" : "anonymous (access control is off)";
    }
}
