package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.function.Supplier;

/**
 * Finds what keeps an unloaded extension's classloader alive, and removes what can be removed safely: the
 * extension's JDBC drivers and shutdown hooks, its timers (cancelled exactly as {@code Timer.cancel} would), the
 * executors it created (shut down), its entries in the JDK's registries ({@link JdkRegistries}), and its
 * thread-local values on the runtime's pooled threads (by renewing those threads).
 *
 * <p>A thread is the extension's by what it runs: its class or task is the extension's, its stack runs the
 * extension's code, or it is a worker of an executor the extension created (one whose thread factory is the
 * extension's, or the JDK's default one while its worker was started during a call into the extension). Such
 * threads are interrupted, never stopped; if they ignore that, they are named in the leak report with their
 * task and the top of their stack. A thread the host or a library created during a call only keeps the context
 * classloader it inherited, which is reset. Workers of the common ForkJoinPool are shared and never interrupted.
 *
 * <p>Reading thread-locals, shutdown hooks, timers, executors and inherited access-control contexts needs
 * {@code --add-opens} of {@code java.base/java.lang}, {@code java.base/java.util},
 * {@code java.base/java.util.concurrent} and {@code java.base/java.security}; without them the inspection says
 * what it could not see.
 */
public final class LeakInspector {

    private static final Field THREAD_LOCALS = field(Thread.class, "threadLocals");
    private static final Field INHERITABLE_THREAD_LOCALS = field(Thread.class, "inheritableThreadLocals");
    /** A thread's task: a field of Thread up to JDK 18, of its field holder since. */
    private static final Field THREAD_TARGET = field(Thread.class, "target");
    private static final Field THREAD_HOLDER = field(Thread.class, "holder");
    private static final Field HOLDER_TASK = field(type("java.lang.Thread$FieldHolder"), "task");
    private static final Field WORKER_EXECUTOR = field(type("java.util.concurrent.ThreadPoolExecutor$Worker"),
            "this$0");
    private static final int TOP_FRAMES = 3;
    /** The thread factories code gets from {@code Executors.newXxx()} and {@code new ForkJoinPool()}. */
    private static final Set<String> DEFAULT_FACTORIES = Set.of("java.util.concurrent.Executors$DefaultThreadFactory",
            "java.util.concurrent.ForkJoinPool$DefaultForkJoinWorkerThreadFactory");
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
    private final JdkRegistries registries = new JdkRegistries();

    public LeakInspector(RenewableExecutor pool) {
        this.pool = pool;
    }

    /** Removes what can safely be removed on the extension's behalf; returns what was done. */
    public List<String> cleanUp(ExtensionClassLoader loader) {
        LoaderIdentity owner = LoaderIdentity.of(loader);
        List<String> cleaned = new ArrayList<>(releaseJdbcDrivers(loader));
        cleaned.addAll(removeShutdownHooks(owner));
        cleaned.addAll(registries.cleanUp(owner, loader));
        cleaned.addAll(stopThreads(owner));
        for (Thread thread : liveThreads()) {
            if (inheritsContextOf(thread, owner) && System.getSecurityManager() == null
                    && write(INHERITED_CONTEXT, thread, null)) {
                cleaned.add("cleared the access-control context thread '" + thread.getName()
                        + "' inherited from a call into the extension (it was started during one)");
            }
        }
        removeOwnThreadLocals(owner).forEach(value -> cleaned.add("removed " + value + " from this thread"));
        List<Thread> holders = new ArrayList<>();
        for (Map.Entry<Thread, List<String>> held : threadLocalsHeld(owner).entrySet()) {
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

    /** Shuts down the extension's executors, cancels its timers, interrupts its threads; resets borrowed loaders. */
    private List<String> stopThreads(LoaderIdentity owner) {
        List<String> cleaned = new ArrayList<>();
        Map<Thread, StackTraceElement[]> stacks = Thread.getAllStackTraces();
        Set<ExecutorService> shutDown = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Thread thread : stacks.keySet()) {
            StackTraceElement[] stack = stacks.get(thread);
            if (thread == Thread.currentThread() || pool.owns(thread) || isShared(thread)) {
                continue;
            }
            ExecutorService executor = executorOf(thread);
            if (executor != null && createdBy(owner, executor, thread, stack)) {
                if (shutDown.add(executor)) {
                    String described = describe(executor, owner); // before its queue is emptied
                    executor.shutdownNow();
                    cleaned.add("shut down the extension's " + described);
                }
            } else if (isTimer(thread) && startedBy(thread, owner) && cancelTimer(thread)) {
                cleaned.add("cancelled timer thread '" + thread.getName() + "'");
            } else if (runsExtensionCode(thread, owner, stack)) {
                thread.interrupt();
                cleaned.add("interrupted thread '" + thread.getName() + "' (" + taskName(thread, owner, stack) + ")");
            } else if (owner.is(thread.getContextClassLoader())) {
                // a host or library thread that was merely created during a call: it inherited the context
                // classloader, which its own code has no use for once the extension is gone
                thread.setContextClassLoader(LeakInspector.class.getClassLoader());
                cleaned.add("reset the context classloader of thread '" + thread.getName()
                        + "' (created during a call into the extension)");
            }
        }
        return cleaned;
    }

    /**
     * What still refers to the loader, for a leak report. Works from the loader's identity alone: the loader
     * itself may be gone from reach by then (a finalizer can bring it back), and holding it here would keep it.
     */
    public List<String> diagnose(LoaderIdentity owner) {
        List<String> causes = new ArrayList<>();
        Map<Thread, StackTraceElement[]> stacks = Thread.getAllStackTraces();
        for (Map.Entry<Thread, StackTraceElement[]> entry : stacks.entrySet()) {
            Thread thread = entry.getKey();
            StackTraceElement[] stack = entry.getValue();
            String named = "thread '" + thread.getName() + "'";
            if (thread == Thread.currentThread()) {
                continue;
            }
            ExecutorService executor = pool.owns(thread) ? null : executorOf(thread);
            if (pool.owns(thread)) {
                if (owner.is(thread.getContextClassLoader()) || runsFrames(owner, stack)) {
                    causes.add("pooled " + named + " is still running a call into the extension"
                            + frames(owner, stack));
                }
            } else if (isShared(thread)) {
                if (runsFrames(owner, stack) && !isCommonPoolWorker(thread)) {
                    causes.add("the JDK's " + named + " runs the extension's code" + frames(owner, stack));
                } else if (runsFrames(owner, stack)) {
                    causes.add(named + " of the common ForkJoinPool runs a task of the extension (it was handed "
                            + "to ForkJoinPool.commonPool() or CompletableFuture.*Async, and a shared worker is never "
                            + "interrupted)" + frames(owner, stack));
                }
            } else if (executor != null && runsFrames(owner, stack) && createdBy(owner, executor, thread, stack)) {
                causes.add(named + " of the extension's " + describe(executor, owner) + " is still running after "
                        + "shutdownNow() (its task ignores interrupts)" + frames(owner, stack));
            } else if (isTimer(thread) && startedBy(thread, owner)) {
                causes.add("timer " + named + " started by the extension is still running");
            } else if (runsExtensionCode(thread, owner, stack)) {
                causes.add(named + " started by the extension is still running" + describeTask(thread, owner, stack)
                        + " and ignored its interrupt");
            } else if (owner.is(thread.getContextClassLoader())) {
                causes.add(named + " has the extension's classloader as its context classloader");
            }
        }
        for (Thread thread : stacks.keySet()) {
            if (inheritsContextOf(thread, owner)) {
                causes.add("thread '" + thread.getName() + "' was started during a call into the extension and "
                        + "holds its access-control context");
            }
        }
        threadLocalsHeld(owner).forEach((thread, values) -> causes.add("thread '" + thread.getName()
                + "' holds " + String.join(", ", values)));
        for (Thread hook : shutdownHooks()) {
            if (startedBy(hook, owner)) {
                causes.add("shutdown hook '" + hook.getName() + "' is still registered");
            }
        }
        causes.addAll(registries.diagnose(owner));
        if (THREAD_LOCALS == null || SHUTDOWN_HOOKS == null || TIMER_QUEUE == null || WORKER_EXECUTOR == null) {
            causes.add("thread-locals, shutdown hooks, timers and executors could not be inspected: run the runtime"
                    + " with --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED"
                    + " --add-opens java.base/java.util.concurrent=ALL-UNNAMED"
                    + " --add-opens java.base/java.security=ALL-UNNAMED");
        }
        return causes;
    }

    /** The thread's own code (its class, its task, or a frame on its stack) comes from the extension. */
    private static boolean runsExtensionCode(Thread thread, LoaderIdentity owner, StackTraceElement[] stack) {
        return owner.defined(thread.getClass()) || extensionPart(taskOf(thread), owner, 3) != null
                || runsFrames(owner, stack);
    }

    private static boolean runsFrames(LoaderIdentity owner, StackTraceElement[] stack) {
        return stack != null && Arrays.stream(stack).anyMatch(owner::runs);
    }

    /**
     * The executor this thread works for, unless it is shared: a thread pool (through its worker) or a
     * ForkJoinPool other than the common one.
     */
    private static ExecutorService executorOf(Thread thread) {
        if (thread instanceof ForkJoinWorkerThread worker) {
            return worker.getPool() == ForkJoinPool.commonPool() ? null : worker.getPool();
        }
        Object task = taskOf(thread);
        return task != null && WORKER_EXECUTOR != null && WORKER_EXECUTOR.getDeclaringClass().isInstance(task)
                && read(WORKER_EXECUTOR, task) instanceof ExecutorService executor ? executor : null;
    }

    /**
     * The extension created the executor: its thread factory is the extension's, or it is the default one that
     * {@code Executors} and {@code new ForkJoinPool()} use, its worker was started during a call into the extension
     * (it inherited the context classloader), and the worker runs the extension's code or the queue holds the
     * extension's tasks. Any other factory marks an executor of the host, a library or the JDK itself (such as
     * {@code CompletableFuture}'s shared delayer), which is left alone; so is an idle pool, whose worker only
     * loses the context classloader.
     */
    private static boolean createdBy(LoaderIdentity owner, ExecutorService executor, Thread worker,
                                     StackTraceElement[] stack) {
        Object factory = executor instanceof ThreadPoolExecutor pool ? pool.getThreadFactory()
                : ((ForkJoinPool) executor).getFactory();
        if (owner.defined(factory.getClass())) {
            return true;
        }
        return DEFAULT_FACTORIES.contains(factory.getClass().getName()) && owner.is(worker.getContextClassLoader())
                && (runsFrames(owner, stack) || !queuedTasksOf(executor, owner).isEmpty());
    }

    private static List<String> queuedTasksOf(ExecutorService executor, LoaderIdentity owner) {
        if (!(executor instanceof ThreadPoolExecutor pool)) {
            return List.of();
        }
        List<String> tasks = new ArrayList<>();
        for (Object task : pool.getQueue().toArray()) {
            String part = extensionPart(task, owner, 4);
            if (part != null) {
                tasks.add(part);
            }
        }
        return tasks;
    }

    /** {@code ScheduledThreadPoolExecutor (2 threads, 1 queued task of com.example.Ticker)}. */
    private static String describe(ExecutorService executor, LoaderIdentity owner) {
        int threads = executor instanceof ThreadPoolExecutor pool ? pool.getPoolSize()
                : ((ForkJoinPool) executor).getPoolSize();
        List<String> queued = queuedTasksOf(executor, owner);
        return executor.getClass().getSimpleName() + " (" + threads + " thread(s)"
                + (queued.isEmpty() ? "" : ", " + queued.size() + " queued task(s) of " + queued.get(0)) + ")";
    }

    /** The task a thread was started with, if it was given one. */
    private static Object taskOf(Thread thread) {
        if (THREAD_TARGET != null) {
            return read(THREAD_TARGET, thread);
        }
        Object holder = read(THREAD_HOLDER, thread);
        return holder == null ? null : read(HOLDER_TASK, holder);
    }

    /**
     * The name of the extension's class that the object is or refers to, following its fields a few levels
     * (an executor's task wraps the extension's {@code Runnable} in a {@code FutureTask} and an adapter); null when
     * there is none within that depth or the fields cannot be read.
     */
    private static String extensionPart(Object object, LoaderIdentity owner, int depth) {
        if (object == null) {
            return null;
        }
        if (owner.owns(object)) {
            return object instanceof Class<?> type ? type.getName() : object.getClass().getName();
        }
        if (depth == 0 || object.getClass().isArray() || object instanceof Thread || object instanceof ClassLoader) {
            return null;
        }
        for (Class<?> type = object.getClass(); type != null && type != Object.class; type = type.getSuperclass()) {
            for (Field field : type.getDeclaredFields()) {
                if (java.lang.reflect.Modifier.isStatic(field.getModifiers()) || field.getType().isPrimitive()) {
                    continue;
                }
                try {
                    field.setAccessible(true);
                    String part = extensionPart(field.get(object), owner, depth - 1);
                    if (part != null) {
                        return part;
                    }
                } catch (ReflectiveOperationException | RuntimeException notOpen) {
                    // a module that is not opened: this field cannot be followed
                }
            }
        }
        return null;
    }

    /**
     * A thread the whole JVM shares, never interrupted on an extension's behalf: the common ForkJoinPool's
     * workers and the JDK's own threads (finalizer, reference handler, cleaners), which live in the system group.
     */
    private static boolean isShared(Thread thread) {
        ThreadGroup group = thread.getThreadGroup();
        return isCommonPoolWorker(thread) || group == null || group.getParent() == null
                || thread.getClass().getName().equals("jdk.internal.misc.InnocuousThread");
    }

    private static boolean isCommonPoolWorker(Thread thread) {
        return thread instanceof ForkJoinWorkerThread worker && worker.getPool() == ForkJoinPool.commonPool();
    }

    /** {@code  (task com.example.Poller, TIMED_WAITING): at ...} */
    private static String describeTask(Thread thread, LoaderIdentity owner, StackTraceElement[] stack) {
        return " (" + taskName(thread, owner, stack) + ", " + thread.getState() + ")" + frames(owner, stack);
    }

    /**
     * The extension's class the thread runs: its task's, or (a task the JDK wraps and lets go of as it starts, as
     * {@code CompletableFuture} does) its topmost frame's; else the task's or the thread's own class.
     */
    private static String taskName(Thread thread, LoaderIdentity owner, StackTraceElement[] stack) {
        Object task = taskOf(thread);
        String part = extensionPart(task, owner, 3);
        if (part == null && stack != null) {
            part = Arrays.stream(stack).filter(owner::runs).map(StackTraceElement::getClassName).findFirst()
                    .orElse(null);
        }
        return part != null ? part : task != null ? task.getClass().getName() : thread.getClass().getName();
    }

    /**
     * The top of a stack, and its topmost frame of the extension's code when that is further down:
     * {@code ": at java.lang.Thread.sleep(Native Method) < at com.example.Poller.run(Poller.java:20)"}.
     */
    static String frames(LoaderIdentity owner, StackTraceElement[] stack) {
        if (stack == null || stack.length == 0) {
            return "";
        }
        List<String> shown = new ArrayList<>();
        boolean ownShown = false;
        for (int i = 0; i < Math.min(TOP_FRAMES, stack.length); i++) {
            shown.add("at " + frame(stack[i]));
            ownShown |= owner.runs(stack[i]);
        }
        for (int i = TOP_FRAMES; i < stack.length && !ownShown; i++) {
            if (owner.runs(stack[i])) {
                shown.add("... at " + frame(stack[i]));
                ownShown = true;
            }
        }
        return ": " + String.join(" < ", shown);
    }

    /** {@code com.example.Poller.run(Poller.java:20)}, without the loader and module names. */
    private static String frame(StackTraceElement frame) {
        String where = frame.isNativeMethod() ? "Native Method" : frame.getFileName() == null ? "Unknown Source"
                : frame.getLineNumber() >= 0 ? frame.getFileName() + ":" + frame.getLineNumber() : frame.getFileName();
        return frame.getClassName() + "." + frame.getMethodName() + "(" + where + ")";
    }

    private static boolean startedBy(Thread thread, LoaderIdentity owner) {
        return owner.is(thread.getContextClassLoader()) || owner.defined(thread.getClass())
                || owner.owns(taskOf(thread));
    }

    /**
     * A thread created while extension code was on the stack inherits an access-control context that holds the
     * extension's protection domain, and with it its classloader, for the thread's whole life (a JDBC driver's
     * cleaner or timer thread started lazily during a call does this).
     */
    private static boolean inheritsContextOf(Thread thread, LoaderIdentity owner) {
        Object context = read(INHERITED_CONTEXT, thread);
        Object domains = context == null ? null : read(CONTEXT_DOMAINS, context);
        if (domains instanceof java.security.ProtectionDomain[] array) {
            for (java.security.ProtectionDomain domain : array) {
                if (domain != null && owner.is(domain.getClassLoader())) {
                    return true;
                }
            }
        }
        return false;
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

    private static List<String> removeShutdownHooks(LoaderIdentity owner) {
        List<String> removed = new ArrayList<>();
        for (Thread hook : shutdownHooks()) {
            if (startedBy(hook, owner)) {
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
    private static List<String> removeOwnThreadLocals(LoaderIdentity owner) {
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
                if (owner.owns(key) || owner.owns(value)) {
                    local.remove();
                    removed.add("a thread-local " + describe(value));
                }
            }
        }
        return removed;
    }

    /** Thread-local values (or keys) that belong to the loader, per thread. */
    private static Map<Thread, List<String>> threadLocalsHeld(LoaderIdentity owner) {
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
                    if (owner.owns(key) || owner.owns(value)) {
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

    static List<Thread> liveThreads() {
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
