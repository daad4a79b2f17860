package io.capmesh.broker.acquire;

import io.capmesh.broker.lease.LeaseStore;
import io.capmesh.broker.registry.RuntimeRegistry;
import io.capmesh.broker.registry.RuntimeRegistry.Placement;
import io.capmesh.broker.routing.BoundedLoad;
import io.capmesh.broker.routing.Rendezvous;
import io.capmesh.broker.routing.VersionMatch;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.AcquiredCapability;
import io.capmesh.proto.v1.CapabilityOffer;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.Dependency;
import io.capmesh.proto.v1.MissingCapability;
import io.capmesh.proto.v1.Tier;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns an Acquire into a lease: resolves each capability and, transitively, what it depends on against the
 * healthy runtimes' offers; picks one replica per capability by rendezvous hashing on
 * {@code capability:account} (sticky, and moving little when replicas come and go) with a load bound (an account
 * already holding the capability stays on its replica; a new one skips replicas holding more than the bound times
 * the average of the capability's active leases, counted in the shared store so every broker replica agrees),
 * preferring replicas that have it loaded and, when asked, replicas on the caller's host; loads a tier-2 package
 * on demand within the timeout; and stores the lease. A missing optional capability is reported, a missing
 * required one fails the whole acquire with every reason, and leaves no lease behind.
 */
public final class Negotiator {

    private static final Pattern CAPABILITY = Pattern.compile("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+");

    /** Limits an Acquire must respect. */
    public record Limits(Duration maxTimeout, int maxCapabilities, Duration leaseTtl) {
    }

    private final RuntimeRegistry registry;
    private final LeaseStore leases;
    private final RuntimeLoader loader;
    private final Limits limits;
    private final double loadBound;

    /** @param loadBound c of {@link BoundedLoad}: how far above the average a replica may fill, at least 1 */
    public Negotiator(RuntimeRegistry registry, LeaseStore leases, RuntimeLoader loader, Limits limits,
                      double loadBound) {
        this.registry = registry;
        this.leases = leases;
        this.loader = loader;
        this.limits = limits;
        this.loadBound = loadBound;
    }

    /** @throws StatusRuntimeException INVALID_ARGUMENT for a bad request, or why a required capability is missing */
    public AcquireResponse acquire(AcquireRequest request) {
        validate(request);
        registry.requireCurrent();
        RuntimeRegistry.View view = registry.view(); // one view for the whole acquire
        long deadline = System.nanoTime() + Duration.ofMillis(request.getTimeoutMillis()).toNanos();
        Deque<Wanted> work = new ArrayDeque<>();
        request.getRequiredList().forEach(r -> work.add(new Wanted(r.getName(), r.getVersionRange(), true, null)));
        request.getOptionalList().forEach(r -> work.add(new Wanted(r.getName(), r.getVersionRange(), false, null)));

        Map<String, Chosen> chosen = new LinkedHashMap<>();
        List<MissingCapability> missing = new ArrayList<>();
        Status.Code worst = null;
        while (!work.isEmpty()) {
            Wanted wanted = work.poll();
            Chosen already = chosen.get(wanted.name());
            if (already != null) {
                if (!VersionMatch.best(wanted.range(), List.of(already.version())).isPresent()) {
                    missing.add(missing(wanted, wanted.neededBy() + " needs " + wanted.name() + " "
                            + describe(wanted.range()) + " but " + already.version() + " was chosen"));
                    worst = wanted.required() ? Status.Code.FAILED_PRECONDITION : worst;
                }
                continue;
            }
            Result result = choose(view, wanted, request, deadline);
            if (result.chosen() != null) {
                chosen.put(wanted.name(), result.chosen());
                for (Dependency dependency : result.chosen().placement().offer().getDependenciesList()) {
                    work.add(new Wanted(dependency.getCapability(), dependency.getVersionRange(), wanted.required(),
                            wanted.name()));
                }
            } else {
                missing.add(missing(wanted, result.reason()));
                if (wanted.required() && worst == null) {
                    worst = result.code();
                }
            }
        }
        if (worst != null) {
            throw Status.fromCode(worst).withDescription("cannot acquire: " + String.join("; ",
                    missing.stream().filter(MissingCapability::getRequired).map(MissingCapability::getReason)
                            .toList())).asRuntimeException();
        }
        List<LeaseStore.Grant> grants = chosen.entrySet().stream().map(e -> {
            var endpoint = e.getValue().placement().runtime().endpoint();
            return new LeaseStore.Grant(e.getKey(), e.getValue().version(), e.getValue().placement().runtime().id(),
                    endpoint.getHost(), endpoint.getPort());
        }).toList();
        LeaseStore.Lease lease = leases.create(request.getAccount(), grants, limits.leaseTtl());
        AcquireResponse.Builder response = AcquireResponse.newBuilder()
                .setLeaseId(lease.id())
                .setExpiresAt(Timestamps.of(lease.expiresAt()))
                .setRegistryRevision(view.revision())
                .addAllMissing(missing);
        chosen.forEach((name, choice) -> response.addAcquired(AcquiredCapability.newBuilder()
                .setName(name)
                .setVersion(choice.version())
                .setEndpoint(choice.placement().runtime().endpoint())
                .addAllFallbacks(choice.fallbacks().stream().map(p -> p.runtime().endpoint()).toList())));
        return response.build();
    }

    private record Wanted(String name, String range, boolean required, String neededBy) {
    }

    private record Chosen(Placement placement, String version, List<Placement> fallbacks) {
    }

    private record Result(Chosen chosen, Status.Code code, String reason) {
        static Result missing(Status.Code code, String reason) {
            return new Result(null, code, reason);
        }
    }

    private Result choose(RuntimeRegistry.View view, Wanted wanted, AcquireRequest request, long deadline) {
        List<Placement> offered = view.placements(wanted.name());
        if (offered.isEmpty()) {
            return Result.missing(Status.Code.NOT_FOUND, "no runtime offers " + wanted.name());
        }
        List<Placement> healthy = offered.stream().filter(p -> p.runtime().healthy()).toList();
        if (healthy.isEmpty()) {
            return Result.missing(Status.Code.UNAVAILABLE, "every runtime offering " + wanted.name()
                    + " is unhealthy (" + String.join(", ", offered.stream()
                    .map(p -> p.runtime().id() + ": " + p.runtime().effectiveState()).toList()) + ")");
        }
        Set<String> versions = new HashSet<>();
        healthy.forEach(p -> versions.add(p.offer().getCapability().getVersion()));
        Optional<String> best = VersionMatch.best(wanted.range(), versions);
        if (best.isEmpty()) {
            return Result.missing(Status.Code.FAILED_PRECONDITION, "no healthy runtime offers " + wanted.name()
                    + " " + describe(wanted.range()) + " (offered: " + String.join(", ", versions.stream()
                    .sorted().toList()) + ")");
        }
        String version = best.get();
        List<Placement> matching = healthy.stream()
                .filter(p -> p.offer().getCapability().getVersion().equals(version)).toList();
        List<Placement> loaded = matching.stream().filter(p -> p.offer().getTier() == Tier.TIER_LOADED).toList();
        List<Placement> candidates = loaded.isEmpty() ? matching : loaded;
        List<Placement> ranked = rank(candidates, wanted.name(), request, candidates.size() < 2
                ? new LeaseStore.Placements(Map.of(), Optional.empty()) // one replica: no count can change the choice
                : leases.placements(wanted.name(), request.getAccount()));
        List<String> failures = new ArrayList<>();
        Status.Code code = Status.Code.UNAVAILABLE;
        for (int i = 0; i < ranked.size(); i++) {
            Placement candidate = ranked.get(i);
            if (candidate.offer().getTier() == Tier.TIER_LOADABLE) {
                Duration left = Duration.ofNanos(deadline - System.nanoTime());
                if (left.isNegative() || left.isZero()) {
                    code = Status.Code.DEADLINE_EXCEEDED;
                    failures.add("no time left to load it on " + candidate.runtime().id());
                    break;
                }
                try {
                    loader.load(candidate.runtime(), candidate.offer().getExtensionId(), left);
                } catch (StatusRuntimeException e) {
                    code = e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED ? Status.Code.DEADLINE_EXCEEDED
                            : Status.Code.UNAVAILABLE;
                    failures.add("loading it on " + candidate.runtime().id() + " failed: " + e.getStatus());
                    continue;
                }
            }
            List<Placement> fallbacks = ranked.subList(i + 1, ranked.size()).stream()
                    .filter(p -> p.offer().getTier() == Tier.TIER_LOADED).toList();
            return new Result(new Chosen(candidate, version, fallbacks), null, null);
        }
        return Result.missing(code, wanted.name() + " " + version + " could not be made ready: "
                + String.join("; ", failures));
    }

    /**
     * Rendezvous order on capability:account under the load bound (the account's current replica first, else the
     * replicas below the bound), with replicas on the caller's host first when asked.
     */
    private List<Placement> rank(List<Placement> placements, String capability, AcquireRequest request,
                                 LeaseStore.Placements placed) {
        List<Placement> ranked = BoundedLoad.order(
                Rendezvous.rank(capability + ":" + request.getAccount(), placements, p -> p.runtime().id()),
                p -> p.runtime().id(), placed.leasesByRuntime(), placed.accountRuntime(), loadBound);
        if (request.getPreferLocal() && !request.getClientHost().isEmpty()) {
            ranked = ranked.stream()
                    .sorted(Comparator.comparing(p -> !p.runtime().endpoint().getHost().equals(request.getClientHost())))
                    .toList(); // stable: keeps the rendezvous order within each group
        }
        return ranked;
    }

    private void validate(AcquireRequest request) {
        List<String> problems = new ArrayList<>();
        if (request.getRequiredCount() == 0) {
            problems.add("name at least one required capability");
        }
        int count = request.getRequiredCount() + request.getOptionalCount();
        if (count > limits.maxCapabilities()) {
            problems.add("at most " + limits.maxCapabilities() + " capabilities per acquire, got " + count);
        }
        if (request.getAccount().isBlank()) {
            problems.add("account is required: every lease belongs to an account");
        }
        if (request.getTimeoutMillis() <= 0) {
            problems.add("timeout_millis must be positive (how long the broker may take, loading included), got "
                    + request.getTimeoutMillis());
        } else if (request.getTimeoutMillis() > limits.maxTimeout().toMillis()) {
            problems.add("timeout_millis may be at most " + limits.maxTimeout().toMillis() + ", got "
                    + request.getTimeoutMillis());
        }
        Set<String> names = new HashSet<>();
        List<CapabilityRequest> all = new ArrayList<>(request.getRequiredList());
        all.addAll(request.getOptionalList());
        for (CapabilityRequest capability : all) {
            if (!CAPABILITY.matcher(capability.getName()).matches()) {
                problems.add("'" + capability.getName() + "' is not a capability name (dotted lower-case, e.g. "
                        + "core.json)");
            } else if (!names.add(capability.getName())) {
                problems.add(capability.getName() + " is asked for twice");
            }
            VersionMatch.rangeProblem(capability.getVersionRange()).ifPresent(problems::add);
        }
        if (!problems.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription(String.join("; ", problems)).asRuntimeException();
        }
    }

    private static MissingCapability missing(Wanted wanted, String reason) {
        return MissingCapability.newBuilder().setName(wanted.name()).setVersionRange(wanted.range())
                .setRequired(wanted.required()).setReason(reason).build();
    }

    private static String describe(String range) {
        return range.isBlank() ? "(any version)" : "'" + range + "'";
    }
}
