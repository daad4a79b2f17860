package io.capmesh.broker.routing;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup and Zadimoghaddam, as in HAProxy's
 * {@code hash-balance-factor} and Envoy): a replica holding more than {@code c} times the average load takes no new
 * key, and the key walks down its ranking to the first replica below the bound. Keys already placed stay where they
 * are, so only the keys that must move do. Given the same ranking and the same counts, every broker orders alike.
 */
public final class BoundedLoad {

    private BoundedLoad() {
    }

    /**
     * Reorders a key's ranking: the replica the key is already placed on first, if it is in the ranking; otherwise
     * the replicas below the bound in ranking order, then the others (as fallbacks) in ranking order.
     *
     * @param ranked    the key's replicas, best first (rendezvous order)
     * @param load      how many keys each replica holds, by id (missing: none)
     * @param placedOn  the replica the key is placed on now, if any
     * @param factor    c, at least 1: a replica may hold up to c times the average, counting the new key
     */
    public static <R> List<R> order(List<R> ranked, Function<R, String> id, Map<String, Long> load,
                                    Optional<String> placedOn, double factor) {
        if (ranked.size() < 2) {
            return ranked;
        }
        if (placedOn.isPresent()) {
            for (R replica : ranked) {
                if (id.apply(replica).equals(placedOn.get())) {
                    List<R> sticky = new ArrayList<>(ranked.size());
                    sticky.add(replica);
                    ranked.stream().filter(r -> r != replica).forEach(sticky::add);
                    return sticky;
                }
            }
        }
        long total = 0;
        for (R replica : ranked) {
            total += load.getOrDefault(id.apply(replica), 0L);
        }
        long bound = bound(total, ranked.size(), factor);
        List<R> below = new ArrayList<>(ranked.size());
        List<R> full = new ArrayList<>();
        for (R replica : ranked) {
            (load.getOrDefault(id.apply(replica), 0L) < bound ? below : full).add(replica);
        }
        below.addAll(full);
        return below;
    }

    /**
     * The most keys a replica may hold before it takes the next one: ceil(c * (total + 1) / n). At least one
     * replica is always below it, since they cannot all be above the average.
     */
    public static long bound(long total, int replicas, double factor) {
        return (long) Math.ceil(factor * (total + 1) / replicas);
    }
}
