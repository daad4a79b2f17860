package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Finds what keeps an unloaded extension's classloader alive, and removes what can be removed safely: the
 * extension's JDBC drivers and shutdown hooks, its timers (cancelled exactly as {@code Timer.cancel} would), and
 * its thread-local values on the runtime's pooled threads (by renewing those threads). Threads it started are
 * interrupted, never stopped; if they ignore that, they are named in the leak report.
 *
 * <p>Reading thread-locals, shutdown hooks, timers and inherited access-control contexts needs
 * {@code --add-opens} of {@code java.base/java.lang}, {@code java.base/java.util} and {@code java.base/java.security};
 * without them the inspection says what it could not see.
 */
public final class LeakInspector {

    private static final Field THREAD_LOCALS = field(Thread.class, "threadLocals");
    private static final Field INHERITABLE_THREAD_LOCALS = field(Thread.class, "inheritableThreadLocals");
    private static final Field THREAD_TARGET = field(Thread.class, "target");
    private static final Field INHERITED_CONTEXT = field(Thread.class, "inheritedAccessControlContext");
    private static final Field CONTEXT_DOMAINS = field(java.security.AccessControlContext.class, "context");
    private static final Field MAP_TABLE = field(nested(ThreadLocal.class, "ThreadLocalMap"), "table");
    private static final Field ENTRY_VALUE =
            field(nested(nested(ThreadLocal.class, "ThreadLocalMap"), "Entry"), "value");
    private static final Field SHUTDOWN_HOOKS = field(type("java.lang.ApplicationShutdownHooks"), "hooks");
    private static final Class<?> TIMER_THREAD = type("java.util.TimerThread");
    private static final Field TIMER_QUEUE = field(TIMER_THREAD, "queue");
    private static final Field TIMER_ACCEPTS_TASKS = field(TIMER_THREAD, "newTasksMayBeScheduled");

    private final RenewableExecutor pool;

    public LeakInspector(RenewableExecutor pool) {
        this.pool = pool;
    }

    /** Removes what can safely be removed on the extension's behalf; returns what was done. */
    public List<String> cleanUp(ExtensionClassLoader loader) {
        List<String> cleaned = new ArrayList<>(releaseJdbcDrivers(loader));
        cleaned.addAll(removeShutdownHooks(loader));
        for (Thread thread : liveThreads()) {
            if (pool.owns(thread) || !startedBy(thread, loader)) {
                continue;
            }
            if (isTimer(thread) && cancelTimer(thread)) {
                cleaned.add("cancelled timer thread '" + thread.getName() + "'");
            } else if (!runsExtensionCode(thread, loader)) {
                // a host or library thread that was merely created during a call: it inherited the context
                // classloader, which its own code has no use for once the extension is gone
                thread.setContextClassLoader(LeakInspector.class.getClassLoader());
                cleaned.add("reset the context classloader of thread '" + thread.getName()
                        + "' (created during a call into the extension)");
            } else {
                thread.interrupt();
            }
        }
        for (Thread thread : liveThreads()) {
            if (inheritsContextOf(thread, loader) && System.getSecurityManager() == null
                    && write(INHERITED_CONTEXT, thread, null)) {
                cleaned.add("cleared the access-control context thread '" + thread.getName()
                        + "' inherited from a call into the extension (it was started during one)");
            }
        }
        removeOwnThreadLocals(loader).forEach(value -> cleaned.add("removed " + value + " from this thread"));
        List<Thread> holders = new ArrayList<>();
        for (Map.Entry<Thread, List<String>> held : threadLocalsHeld(loader).entrySet()) {
            if (pool.owns(held.getKey())) {
                holders.add(held.getKey());
                cleaned.add("renewed pooled thread '" + held.getKey().getName() + "' that held "
                        + String.join(", ", held.getValue()));
            }
        }
        if (!holders.isEmpty()) {
            pool.renew(holders, Duration.ofSeconds(1)); // a thread still busy after that is named in the report
        }
        return cleaned;
    }

    /** What still refers to the loader, for a leak report. */
    public List<String> diagnose(ExtensionClassLoader loader) {
        List<String> causes = new ArrayList<>();
        for (Thread thread : liveThreads()) {
            if (pool.owns(thread) && thread.getContextClassLoader() == loader) {
                causes.add("pooled thread '" + thread.getName() + "' is still running a call into the extension");
            } else if (!pool.owns(thread) && startedBy(thread, loader)) {
                causes.add((isTimer(thread) ? "timer thread '" : "thread '") + thread.getName()
                        + "' started by the extension is still running" + describeTask(thread));
            }
        }
        for (Thread thread : liveThreads()) {
            if (inheritsContextOf(thread, loader)) {
                causes.add("thread '" + thread.getName() + "' was started during a call into the extension and "
                        + "holds its access-control context");
            }
        }
        threadLocalsHeld(loader).forEach((thread, values) -> causes.add("thread '" + thread.getName()
                + "' holds " + String.join(", ", values)));
        for (Thread hook : shutdownHooks()) {
            if (startedBy(hook, loader)) {
                causes.add("shutdown hook '" + hook.getName() + "' is still registered");
            }
        }
        if (THREAD_LOCALS == null || SHUTDOWN_HOOKS == null || TIMER_QUEUE == null || CONTEXT_DOMAINS == null) {
            causes.add("thread-locals, shutdown hooks and timers could not be inspected: run the runtime with "
                    + "--add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED "
                    + "--add-opens java.base/java.security=ALL-UNNAMED");
        }
        if (causes.isEmpty()) {
            causes.add("no thread, timer, thread-local or shutdown hook refers to it: a static field or cache "
                    + "outside the extension holds one of its classes or objects; a heap dump "
                    + "(jcmd <pid> GC.heap_dump) shows the path from a GC root to " + loader);
        }
        return causes;
    }

    /** The thread's own code (its class, or the task it was given) comes from the extension. */
    private static boolean runsExtensionCode(Thread thread, ClassLoader loader) {
        Object target = read(THREAD_TARGET, thread);
        return thread.getClass().getClassLoader() == loader
                || (target != null && target.getClass().getClassLoader() == loader);
    }

    private static boolean startedBy(Thread thread, ClassLoader loader) {
        if (thread.getContextClassLoader() == loader || thread.getClass().getClassLoader() == loader) {
            return true;
        }
        Object target = read(THREAD_TARGET, thread);
        return target != null && target.getClass().getClassLoader() == loader;
    }

    /**
     * A thread created while extension code was on the stack inherits an access-control context that holds the
     * extension's protection domain, and with it its classloader, for the thread's whole life (a JDBC driver's
     * cleaner or timer thread started lazily during a call does this).
     */
    private static boolean inheritsContextOf(Thread thread, ClassLoader loader) {
        Object context = read(INHERITED_CONTEXT, thread);
        Object domains = context == null ? null : read(CONTEXT_DOMAINS, context);
        if (domains instanceof java.security.ProtectionDomain[] array) {
            for (java.security.ProtectionDomain domain : array) {
                if (domain != null && domain.getClassLoader() == loader) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String describeTask(Thread thread) {
        Object target = read(THREAD_TARGET, thread);
        String type = target != null ? target.getClass().getName() : thread.getClass().getName();
        return " (" + type + ", " + thread.getState() + ")";
    }

    private static boolean isTimer(Thread thread) {
        return TIMER_THREAD != null && TIMER_THREAD.isInstance(thread);
    }

    /** Does what {@code Timer.cancel()} does, from the timer's thread, since the Timer itself is not at hand. */
    private static boolean cancelTimer(Thread timerThread) {
        Object queue = read(TIMER_QUEUE, timerThread);
        if (queue == null || TIMER_ACCEPTS_TASKS == null) {
            return false;
        }
        try {
            Method clear = queue.getClass().getDeclaredMethod("clear");
            clear.setAccessible(true);
            synchronized (queue) {
                TIMER_ACCEPTS_TASKS.setBoolean(timerThread, false);
                clear.invoke(queue);
                queue.notifyAll();
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private static List<String> releaseJdbcDrivers(ExtensionClassLoader loader) {
        String name = JdbcDriverRelease.class.getName();
        try (InputStream in = JdbcDriverRelease.class.getResourceAsStream(
                JdbcDriverRelease.class.getSimpleName() + ".class")) {
            if (in == null) {
                return List.of();
            }
            @SuppressWarnings("unchecked")
            Supplier<List<String>> release = (Supplier<List<String>>) loader
                    .defineHelper(name, in.readAllBytes()).getConstructor().newInstance();
            return release.get().stream().map(driver -> "deregistered JDBC driver " + driver).toList();
        } catch (IOException | ReflectiveOperationException | LinkageError e) {
            return List.of();
        }
    }

    private static List<String> removeShutdownHooks(ClassLoader loader) {
        List<String> removed = new ArrayList<>();
        for (Thread hook : shutdownHooks()) {
            if (startedBy(hook, loader)) {
                try {
                    if (Runtime.getRuntime().removeShutdownHook(hook)) {
                        removed.add("removed shutdown hook '" + hook.getName() + "' (" + hook.getClass().getName() + ")");
                    }
                } catch (IllegalStateException shuttingDown) {
                    // the JVM is exiting anyway
                }
            }
        }
        return removed;
    }

    private static List<Thread> shutdownHooks() {
        if (SHUTDOWN_HOOKS == null) {
            return List.of();
        }
        synchronized (SHUTDOWN_HOOKS.getDeclaringClass()) {
            Object hooks = read(SHUTDOWN_HOOKS, null);
            return hooks instanceof IdentityHashMap<?, ?> map
                    ? map.keySet().stream().map(Thread.class::cast).toList()
                    : List.of();
        }
    }

    /** The calling thread owns its thread-local map, so it may simply remove the loader's entries itself. */
    private static List<String> removeOwnThreadLocals(ClassLoader loader) {
        List<String> removed = new ArrayList<>();
        Object map = read(THREAD_LOCALS, Thread.currentThread());
        Object[] table = map == null ? null : (Object[]) read(MAP_TABLE, map);
        if (table == null) {
            return removed;
        }
        for (Object entry : table.clone()) {
            Object key = entry == null ? null : ((java.lang.ref.Reference<?>) entry).get();
            if (key instanceof ThreadLocal<?> local) {
                Object value = read(ENTRY_VALUE, entry);
                if (belongs(key, loader) || belongs(value, loader)) {
                    local.remove();
                    removed.add("a thread-local " + describe(value));
                }
            }
        }
        return removed;
    }

    /** Thread-local values (or keys) that belong to the loader, per thread. */
    private static Map<Thread, List<String>> threadLocalsHeld(ClassLoader loader) {
        Map<Thread, List<String>> held = new LinkedHashMap<>();
        if (THREAD_LOCALS == null || MAP_TABLE == null || ENTRY_VALUE == null) {
            return held;
        }
        for (Thread thread : liveThreads()) {
            for (Field mapField : new Field[] {THREAD_LOCALS, INHERITABLE_THREAD_LOCALS}) {
                Object map = read(mapField, thread);
                Object[] table = map == null ? null : (Object[]) read(MAP_TABLE, map);
                if (table == null) {
                    continue;
                }
                for (Object entry : table) {
                    if (entry == null) {
                        continue;
                    }
                    Object key = ((java.lang.ref.Reference<?>) entry).get();
                    Object value = read(ENTRY_VALUE, entry);
                    if (belongs(key, loader) || belongs(value, loader)) {
                        held.computeIfAbsent(thread, t -> new ArrayList<>()).add("a thread-local "
                                + describe(value));
                    }
                }
            }
        }
        return held;
    }

    private static String describe(Object value) {
        if (value instanceof java.lang.ref.Reference<?> reference && reference.get() != null) {
            return value.getClass().getSimpleName() + " to a " + reference.get().getClass().getName();
        }
        return value == null ? "key of the extension's type" : "value of type " + value.getClass().getName();
    }

    private static boolean belongs(Object object, ClassLoader loader) {
        if (object instanceof java.lang.ref.Reference<?> reference) {
            object = reference.get(); // a soft or weak cache entry keeps its referent until memory runs short
        }
        if (object == null) {
            return false;
        }
        if (object == loader) {
            return true;
        }
        Class<?> type = object instanceof Class<?> c ? c : object.getClass();
        return type.getClassLoader() == loader;
    }

    private static List<Thread> liveThreads() {
        ThreadGroup root = Thread.currentThread().getThreadGroup();
        while (root.getParent() != null) {
            root = root.getParent();
        }
        Thread[] threads = new Thread[root.activeCount() + 16];
        int n;
        while ((n = root.enumerate(threads, true)) == threads.length) {
            threads = new Thread[threads.length * 2];
        }
        return Arrays.asList(Arrays.copyOf(threads, n));
    }

    private static boolean write(Field field, Object target, Object value) {
        if (field == null) {
            return false;
        }
        try {
            field.set(target, value);
            return true;
        } catch (IllegalAccessException | RuntimeException e) {
            return false;
        }
    }

    private static Object read(Field field, Object target) {
        if (field == null) {
            return null;
        }
        try {
            return field.get(target);
        } catch (IllegalAccessException e) {
            return null;
        }
    }

    private static Field field(Class<?> owner, String name) {
        if (owner == null) {
            return null;
        }
        try {
            Field field = owner.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException notOpen) {
            return null;
        }
    }

    private static Class<?> nested(Class<?> owner, String simpleName) {
        return owner == null ? null : type(owner.getName() + "$" + simpleName);
    }

    private static Class<?> type(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException e) {
            return null;
        }
    }
}
