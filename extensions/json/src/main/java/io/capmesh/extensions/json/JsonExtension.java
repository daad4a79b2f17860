package io.capmesh.extensions.json;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code core.json}. Every method takes UTF-8 JSON and answers UTF-8 JSON:
 * <ul>
 *   <li>{@code parse}: any JSON value; answers it minified (member order and number text kept).</li>
 *   <li>{@code validate}: {@code {"schema": <JSON Schema>, "document": <any>}}; answers
 *       {@code {"valid": true|false, "errors": [{"path": <JSON Pointer>, "message": <text>}]}}.</li>
 *   <li>{@code patch}: {@code {"document": <any>, "patch": [<RFC 6902 operations>]}}; answers the patched
 *       document, minified.</li>
 *   <li>{@code canonicalize}: any JSON value; answers its RFC 8785 canonical form.</li>
 * </ul>
 *
 * <p>Calls run on this extension's own threads, which {@link #close} stops: Jackson keeps buffers in
 * thread-locals, and left on the runtime's threads they would keep this extension's classloader alive.
 */
public final class JsonExtension implements Extension {

    static final List<String> METHODS = List.of("parse", "validate", "patch", "canonicalize");

    /**
     * Validation recurses once or more per level of the document, and Jackson admits 1000 levels; the default
     * thread stack runs out before that.
     */
    private static final long WORKER_STACK_BYTES = 16L << 20;

    private static final byte[] WARM_UP = """
            {"schema": {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}},
             "document": {"n": 1}}""".getBytes(StandardCharsets.UTF_8);

    private final SchemaValidation validation = new SchemaValidation();
    private volatile ExecutorService workers;
    /** The pool's threads, so that close can wait until each has ended, not only until the pool says it is done. */
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    @Override
    public void start(ExtensionContext context) throws Exception {
        workers = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(), threadsNamed(context.id(), threads));
        try {
            // Compiles the default meta-schema and loads the classes of the common paths before traffic arrives.
            invoke(Invocation.of("core.json", "validate", WARM_UP));
            invoke(Invocation.of("core.json", "canonicalize", WARM_UP));
        } catch (Exception | Error e) {
            close(); // nothing may call close after a failed start, so stop the threads here
            throw e;
        }
    }

    @Override
    public byte[] invoke(Invocation invocation) throws Exception {
        ExecutorService pool = workers;
        if (pool == null) {
            throw new IllegalStateException("core-json has not been started");
        }
        Future<byte[]> answer = pool.submit(() -> answer(invocation));
        try {
            return answer.get();
        } catch (InterruptedException e) {
            answer.cancel(true);
            throw e;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw (Error) e.getCause();
        }
    }

    @Override
    public void close() throws InterruptedException {
        ExecutorService pool = workers;
        if (pool != null) {
            pool.shutdownNow();
            // each thread ended, not only the pool terminated: its last thread may still be on its way out
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            for (Thread thread : threads) {
                thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            }
        }
    }

    private byte[] answer(Invocation invocation) {
        return switch (invocation.method()) {
            case "parse" -> Json.minify(invocation.payload());
            case "validate" -> Json.write(validation.validate(Json.read(invocation.payload())));
            case "patch" -> Json.write(Patching.patch(Json.read(invocation.payload())));
            case "canonicalize" -> Canonical.canonicalize(Json.read(invocation.payload()));
            default -> throw CapabilityException.notFound("core.json has no method '" + invocation.method()
                    + "'; its methods are " + String.join(", ", METHODS));
        };
    }

    private static ThreadFactory threadsNamed(String id, List<Thread> made) {
        AtomicInteger count = new AtomicInteger();
        ClassLoader own = JsonExtension.class.getClassLoader();
        return task -> {
            Thread thread = new Thread(null, task, id + "-worker-" + count.incrementAndGet(), WORKER_STACK_BYTES);
            thread.setDaemon(true);
            thread.setContextClassLoader(own);
            made.add(thread);
            return thread;
        };
    }
}
