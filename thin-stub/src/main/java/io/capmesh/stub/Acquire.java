package io.capmesh.stub;

import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.CapabilityRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * What to acquire: capabilities that must all be had (or nothing is acquired), capabilities that are welcome if
 * they can be had, and how long the broker may take, loading a capability on demand included. Immutable: every
 * method returns a new request, so one can be kept and acquired again.
 *
 * <pre>{@code Acquire.require("core.json", "^1").optional("ml.onnx").timeout(Duration.ofSeconds(5))}</pre>
 */
public final class Acquire {

    /** How long the broker may take when nothing else is said. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    /** A capability name and the semver range its version must satisfy ({@code ""}: any version). */
    public record Want(String name, String versionRange) {
        public Want {
            Objects.requireNonNull(name, "name");
            versionRange = versionRange == null ? "" : versionRange;
        }

        @Override
        public String toString() {
            return versionRange.isEmpty() ? name : name + " " + versionRange;
        }
    }

    private final List<Want> required;
    private final List<Want> optional;
    private final Duration timeout;
    private final String preferredHost;

    private Acquire(List<Want> required, List<Want> optional, Duration timeout, String preferredHost) {
        this.required = List.copyOf(required);
        this.optional = List.copyOf(optional);
        this.timeout = timeout;
        this.preferredHost = preferredHost;
    }

    /** A request for one capability, any version. */
    public static Acquire require(String name) {
        return require(name, "");
    }

    /** A request for one capability whose version satisfies a semver range ({@code "^1"}, {@code ">=1.2 <2"}). */
    public static Acquire require(String name, String versionRange) {
        return new Acquire(List.of(new Want(name, versionRange)), List.of(), DEFAULT_TIMEOUT, "");
    }

    /** Also requires this capability, any version. */
    public Acquire andRequire(String name) {
        return andRequire(name, "");
    }

    /** Also requires this capability in a semver range. */
    public Acquire andRequire(String name, String versionRange) {
        return new Acquire(plus(required, name, versionRange), optional, timeout, preferredHost);
    }

    /** Asks for this capability if it can be had; if not, it is listed in {@link Capabilities#missing()}. */
    public Acquire optional(String name) {
        return optional(name, "");
    }

    /** Asks for this capability in a semver range if it can be had. */
    public Acquire optional(String name, String versionRange) {
        return new Acquire(required, plus(optional, name, versionRange), timeout, preferredHost);
    }

    /** How long the broker may take, loading capabilities that no runtime has loaded yet included. */
    public Acquire timeout(Duration timeout) {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("the timeout must be positive, got " + timeout);
        }
        return new Acquire(required, optional, timeout, preferredHost);
    }

    /** Puts replicas on this host first (the host as runtimes advertise it), so calls stay on the machine. */
    public Acquire preferHost(String host) {
        return new Acquire(required, optional, timeout, Objects.requireNonNull(host, "host"));
    }

    public List<Want> required() {
        return required;
    }

    public List<Want> optional() {
        return optional;
    }

    public Duration timeout() {
        return timeout;
    }

    AcquireRequest toRequest(String account) {
        return AcquireRequest.newBuilder()
                .setAccount(account)
                .setTimeoutMillis(timeout.toMillis())
                .addAllRequired(required.stream().map(Acquire::toRequest).toList())
                .addAllOptional(optional.stream().map(Acquire::toRequest).toList())
                .setPreferLocal(!preferredHost.isEmpty())
                .setClientHost(preferredHost)
                .build();
    }

    /** The names asked for, for messages. */
    String names() {
        return String.join(", ", Stream.concat(required.stream(), optional.stream()).map(Want::name).toList());
    }

    private static CapabilityRequest toRequest(Want want) {
        return CapabilityRequest.newBuilder().setName(want.name()).setVersionRange(want.versionRange()).build();
    }

    private static List<Want> plus(List<Want> wants, String name, String versionRange) {
        List<Want> more = new ArrayList<>(wants);
        more.add(new Want(name, versionRange));
        return more;
    }

    @Override
    public String toString() {
        return "Acquire" + required + (optional.isEmpty() ? "" : " optional" + optional) + " within " + timeout;
    }
}
