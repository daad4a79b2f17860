package io.capmesh.runtime.loader;

import io.capmesh.extension.api.Extension;
import io.capmesh.runtime.isolation.ChildStatus;
import io.capmesh.runtime.pkg.ExtensionManifest;
import io.capmesh.runtime.pkg.ExtensionPackage;
import io.grpc.ServerServiceDefinition;
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

    private final ExtensionPackage pkg;
    private final Instant deployedAt;
    private final Map<String, Set<String>> methodsByCapability;
    private final List<String> serviceNames;
    private final Semaphore permits;
    private final AtomicInteger pins = new AtomicInteger();
    private final LongAdder invocations = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final long loadMicros;
    private final Supplier<ChildStatus> childStatus;
    private volatile Live live;

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
        this.methodsByCapability = pkg.manifest().capabilities().stream()
                .collect(Collectors.toUnmodifiableMap(ExtensionManifest.Capability::name,
                        ExtensionManifest.Capability::methods));
        this.serviceNames = live.services().stream().map(s -> s.getServiceDescriptor().getName()).toList();
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

    /** Refuses new pins from now on; {@link #awaitDrained} then waits for the calls in flight. */
    public void retire() {
        pins.getAndUpdate(s -> s | RETIRED);
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
        return permits.tryAcquire();
    }

    public void releasePermit() {
        permits.release();
    }

    public void recordCall(boolean failed) {
        invocations.increment();
        if (failed) {
            failures.increment();
        }
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
