package io.capmesh.runtime.loader;

import io.capmesh.extension.api.Extension;
import io.capmesh.runtime.Problem;
import io.capmesh.runtime.isolation.ChildStatus;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.capmesh.runtime.store.CallJournal;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * One loaded, started version of an extension, and the count of calls pinned to it.
 *
 * <p>A call pins the version it starts on and unpins it when it ends, so a swap never moves a call halfway.
 * Once retired, a version accepts no new pins and its drain completes when the last pinned call ends. After
 * {@link #detach()} nothing here refers to the extension's classes any more, so holding this object (for
 * statistics) does not keep its classloader alive.
 */
public final class LoadedExtension {

    private static final int RETIRED = 1 << 30;

    /** What became of a call that asked for a permit. */
    public enum Admission {
        /** It holds a permit: release it when the call ends. */
        ADMITTED,
        /** Every permit was taken and the queue was full. */
        QUEUE_FULL,
        /** It waited in the queue until its deadline. */
        TIMED_OUT,
        /** The version was retired while the call waited: it must not run here (look up the current version). */
        RETIRED
    }

    /**
     * The parts that refer to extension classes; dropped on detach. An extension isolated in a child JVM has no
     * loader here: its instance is the stand-in that forwards to the child.
     */
    public record Live(ExtensionClassLoader loader, Extension instance, List<ServerServiceDefinition> services) {

        /** The context classloader for calls into the instance. */
        public ClassLoader contextLoader() {
            return loader != null ? loader : instance.getClass().getClassLoader();
        }

        public boolean isolated() {
            return loader == null;
        }
    }

    /**
     * How long a call declared non-blocking may run on a transport thread: one that takes longer sends its
     * version's later calls to the call pool (while it runs, the other calls of its connection wait).
     */
    public static final Duration INLINE_CALL_LIMIT = Duration.ofMillis(20);

    /** Calls a version serves before the limit applies: its first ones load and compile its code, and may be slow. */
    public static final int WARM_CALLS = 100;

    private static final System.Logger LOG = System.getLogger(LoadedExtension.class.getName());

    private final ExtensionPackage pkg;
    private final Instant deployedAt;
    private final Map<String, Set<String>> methodsByCapability;
    private final List<String> serviceNames;
    private final Semaphore permits;
    private final int maxConcurrentCalls;
    private final AtomicInteger queued = new AtomicInteger();
    private volatile int maxQueuedCalls;
    /** Set before publication, which makes it visible to every call. */
    private CallJournal.Slot journal = CallJournal.Slot.NONE;
    private final AtomicInteger pins = new AtomicInteger();
    private final LongAdder invocations = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final long loadMicros;
    private final Supplier<ChildStatus> childStatus;
    private volatile Live live;
    private long callsSeen;
    private long callsSeenAt = System.nanoTime();
    private volatile boolean hibernated;
    /** Methods by capability whose calls may run on a transport thread; emptied once one of them runs long. */
    private volatile Map<String, Set<String>> inline;
    /** The same for typed gRPC methods, by full name. */
    private volatile Set<String> inlineTyped;

    public LoadedExtension(ExtensionPackage pkg, Live live, Instant deployedAt, int maxConcurrentCalls,
                           long loadMicros) {
        this(pkg, live, deployedAt, maxConcurrentCalls, loadMicros, null);
    }

    /** @param childStatus where its child JVM stands, for an extension isolated in one; else null */
    public LoadedExtension(ExtensionPackage pkg, Live live, Instant deployedAt, int maxConcurrentCalls,
                           long loadMicros, Supplier<ChildStatus> childStatus) {
        this.pkg = pkg;
        this.childStatus = childStatus;
        this.live = live;
        this.deployedAt = deployedAt;
        this.loadMicros = loadMicros;
        this.permits = new Semaphore(maxConcurrentCalls);
        this.maxConcurrentCalls = maxConcurrentCalls;
        this.methodsByCapability = pkg.manifest().capabilities().stream()
                .collect(Collectors.toUnmodifiableMap(ExtensionManifest.Capability::name,
                        ExtensionManifest.Capability::methods));
        this.serviceNames = live.services().stream().map(s -> s.getServiceDescriptor().getName()).toList();
        // a typed method is named package.Service/Method, an Invoke method plainly; a child JVM's calls always wait
        boolean inProcess = !pkg.manifest().processIsolation() && !live.isolated();
        List<ExtensionManifest.Capability> declaring = inProcess ? pkg.manifest().capabilities() : List.of();
        this.inline = declaring.stream().collect(Collectors.toUnmodifiableMap(ExtensionManifest.Capability::name,
                c -> c.nonBlocking().stream().filter(method -> !method.contains("/"))
                        .collect(Collectors.toUnmodifiableSet())));
        this.inlineTyped = declaring.stream().flatMap(c -> c.nonBlocking().stream())
                .filter(method -> method.contains("/")).collect(Collectors.toUnmodifiableSet());
        inlineTyped.stream().filter(method -> live.services().stream().allMatch(s -> s.getMethod(method) == null))
                .forEach(method -> LOG.log(System.Logger.Level.WARNING, pkg.manifest().coordinates() + " declares "
                        + method + " non-blocking, but none of its typed services has that method"));
    }

    /** True when Invoke calls of this method may run on the transport's thread: it declares them non-blocking. */
    public boolean runsInline(String capability, String method) {
        Set<String> methods = inline.get(capability);
        return methods != null && methods.contains(method);
    }

    /** True when calls of this typed gRPC method (full name) may run on the transport's thread. */
    public boolean runsInlineTyped(String fullMethodName) {
        return inlineTyped.contains(fullMethodName);
    }

    /**
     * A call declared non-blocking ran on a transport thread for {@code tookNanos}: past the limit, once this
     * version has served its first {@link #WARM_CALLS} calls, its later calls go to the call pool.
     *
     * @param method the capability and method, or the typed method, for the warning
     */
    public void ranInline(String method, long tookNanos) {
        if (tookNanos > INLINE_CALL_LIMIT.toNanos() && invocations() >= WARM_CALLS) {
            stopRunningInline(method + " took " + TimeUnit.NANOSECONDS.toMillis(tookNanos) + " ms");
        }
    }

    /**
     * Sends every later call of this version to the call pool, with a warning the first time: a call declared
     * non-blocking ran too long on a transport thread.
     *
     * @param why what ran too long, e.g. {@code core.echo/hold took 1500 ms}
     */
    public synchronized void stopRunningInline(String why) {
        if (inline.values().stream().allMatch(Set::isEmpty) && inlineTyped.isEmpty()) {
            return;
        }
        inline = Map.of();
        inlineTyped = Set.of();
        LOG.log(System.Logger.Level.WARNING, manifest().coordinates() + " declares non-blocking methods, but " + why
                + " on a transport thread (the limit is " + INLINE_CALL_LIMIT.toMillis() + " ms); its calls run on the"
                + " call pool from now on. Remove the method from nonBlocking in its manifest.");
    }

    public ExtensionManifest manifest() {
        return pkg.manifest();
    }

    public ExtensionPackage pkg() {
        return pkg;
    }

    public Instant deployedAt() {
        return deployedAt;
    }

    public long loadMicros() {
        return loadMicros;
    }

    /** Where its child JVM stands; empty for an extension loaded in-process. */
    public Optional<ChildStatus> childStatus() {
        return childStatus == null ? Optional.empty() : Optional.of(childStatus.get());
    }

    public List<String> serviceNames() {
        return serviceNames;
    }

    /** The methods a capability of this extension answers, or null when it does not provide the capability. */
    public Set<String> methods(String capability) {
        return methodsByCapability.get(capability);
    }

    /** The live parts; null once detached. Only callers holding a pin may rely on it being there. */
    public Live live() {
        return live;
    }

    /** Pins this version for one call; false once it is retired (look up the current version again). */
    public boolean tryPin() {
        for (;;) {
            int state = pins.get();
            if ((state & RETIRED) != 0) {
                return false;
            }
            if (pins.compareAndSet(state, state + 1)) {
                return true;
            }
        }
    }

    public void unpin() {
        if (pins.decrementAndGet() == RETIRED) {
            synchronized (pins) {
                pins.notifyAll();
            }
        }
    }

    /**
     * Refuses new pins from now on; {@link #awaitDrained} then waits for the calls in flight. Calls waiting for a
     * permit are woken so they leave this version instead of holding up its drain.
     */
    public void retire() {
        int before = pins.getAndUpdate(s -> s | RETIRED);
        if ((before & RETIRED) == 0) {
            // at most maxQueuedCalls wait; each takes one of these, sees the retirement and leaves
            permits.release(maxQueuedCalls);
        }
    }

    public boolean retired() {
        return (pins.get() & RETIRED) != 0;
    }

    /** @return true when every pinned call ended within the timeout */
    public boolean awaitDrained(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        synchronized (pins) {
            while (pins.get() != RETIRED) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(pins, left);
            }
            return true;
        }
    }

    /** Calls still pinned to this version. */
    public int inFlight() {
        return pins.get() & ~RETIRED;
    }

    public boolean tryAcquirePermit() {
        if (permits.tryAcquire()) {
            journal.callStarted();
            return true;
        }
        return false;
    }

    /** Counts this version's calls in progress in the runtime's journal; done before the version is published. */
    public LoadedExtension journaling(CallJournal.Slot slot) {
        this.journal = slot;
        return this;
    }

    /** Sets how many calls may wait for a permit when all are taken; done before the version is published. */
    public LoadedExtension queueing(int maxQueuedCalls) {
        this.maxQueuedCalls = maxQueuedCalls;
        return this;
    }

    public int maxConcurrentCalls() {
        return maxConcurrentCalls;
    }

    public int maxQueuedCalls() {
        return maxQueuedCalls;
    }

    /** Why a call that was not admitted is refused, for the caller to act on. */
    public Problem refusal(Admission admission, long waitedNanos) {
        String limits = manifest().coordinates() + " runs at most " + maxConcurrentCalls
                + " call(s) at once (capmesh.runtime.max-concurrent-calls) with at most " + maxQueuedCalls
                + " more waiting (capmesh.runtime.max-queued-calls)";
        return switch (admission) {
            case QUEUE_FULL -> Problem.exhausted(limits + ", and both are full; retry with backoff, or raise "
                    + "capmesh.runtime.max-queued-calls or capmesh.runtime.max-concurrent-calls");
            case TIMED_OUT -> new Problem(Status.Code.DEADLINE_EXCEEDED, limits + "; this call waited "
                    + TimeUnit.NANOSECONDS.toMillis(waitedNanos) + " ms in the queue and its deadline (the caller's, "
                    + "at most capmesh.runtime.max-call-time) passed before a call ended; retry with backoff, or "
                    + "raise capmesh.runtime.max-concurrent-calls");
            case RETIRED -> new Problem(Status.Code.UNAVAILABLE, manifest().coordinates() + " was swapped or "
                    + "unloaded while this call waited for a permit, so it did not run; retry to reach the version "
                    + "serving now");
            case ADMITTED -> throw new IllegalArgumentException("an admitted call is not refused");
        };
    }

    /** Calls waiting for a permit now. */
    public int queued() {
        return queued.get();
    }

    /**
     * Waits in the queue for a permit until {@code deadlineNanos} (on {@link System#nanoTime()}), once
     * {@link #tryAcquirePermit} found none free: calls that need not wait never compute a deadline. The caller
     * holds a pin; on {@link Admission#RETIRED} it must unpin and look up the current version.
     */
    public Admission awaitPermit(long deadlineNanos) throws InterruptedException {
        if (queued.incrementAndGet() > maxQueuedCalls) {
            queued.decrementAndGet();
            return Admission.QUEUE_FULL;
        }
        try {
            if (retired()) {
                return Admission.RETIRED;
            }
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0 || !permits.tryAcquire(left, TimeUnit.NANOSECONDS)) {
                return Admission.TIMED_OUT;
            }
            if (retired()) {
                permits.release();
                return Admission.RETIRED;
            }
            journal.callStarted();
            return Admission.ADMITTED;
        } finally {
            queued.decrementAndGet();
        }
    }

    public void releasePermit() {
        journal.callEnded();
        permits.release();
    }

    public void recordCall(boolean failed) {
        invocations.increment();
        if (failed) {
            failures.increment();
        }
    }

    /**
     * How long no call has ended, as seen by whoever asks (the idle sweep, at its own pace): the count of calls is
     * compared with the last look, so the calls themselves never read the clock. Calls in flight count as not idle.
     */
    public synchronized long idleNanos() {
        long now = System.nanoTime();
        long calls = invocations.sum();
        if (inFlight() > 0 || calls != callsSeen) {
            callsSeen = calls;
            callsSeenAt = now;
            return 0;
        }
        return now - callsSeenAt;
    }

    /** True once this version was unloaded for idling while its extension stays deployed. */
    public boolean hibernated() {
        return hibernated;
    }

    public void markHibernated() {
        hibernated = true;
    }

    /** Adds counts carried over from an earlier run or the version this one replaced. */
    public void addToCounts(long moreInvocations, long moreFailures) {
        invocations.add(moreInvocations);
        failures.add(moreFailures);
    }

    public long invocations() {
        return invocations.sum();
    }

    public long failures() {
        return failures.sum();
    }

    /** Drops every reference to the extension's classes and returns them, for the one caller that closes them. */
    public Live detach() {
        Live detached = live;
        live = null;
        return detached;
    }
}
