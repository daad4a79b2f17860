package io.capmesh.broker.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Function;

/**
 * Highest-random-weight (rendezvous) hashing: every replica gets a pseudo-random weight for a key, and the
 * replica with the highest weight is preferred. A key keeps its replica as long as that replica is there, and
 * when one leaves, only the keys it had move, spread over the others; the ranking also gives the failover order.
 */
public final class Rendezvous {

    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    private Rendezvous() {
    }

    /** The replicas in preference order for {@code key} (e.g. "capability:account"), best first. */
    public static <R> List<R> rank(String key, Collection<R> replicas, Function<R, String> replicaId) {
        long keyState = absorb(FNV_OFFSET, key);
        List<Weighted<R>> weighted = new ArrayList<>(replicas.size());
        for (R replica : replicas) {
            String id = replicaId.apply(replica);
            weighted.add(new Weighted<>(replica, id, absorb(keyState, id)));
        }
        // Equal weights are next to impossible; the id breaks the tie so the order never depends on input order.
        weighted.sort((a, b) -> a.weight != b.weight ? Long.compare(b.weight, a.weight) : a.id.compareTo(b.id));
        List<R> ranked = new ArrayList<>(weighted.size());
        for (Weighted<R> w : weighted) {
            ranked.add(w.replica);
        }
        return ranked;
    }

    /** The weight of a replica for a key: stable across runs and JVMs, since routing must agree between brokers. */
    static long weight(String key, String replicaId) {
        return absorb(absorb(FNV_OFFSET, key), replicaId);
    }

    /**
     * Feeds a string into the state: FNV-1a over the UTF-16 units, then the length (so that ("ab", "c") and
     * ("a", "bc") differ), then the murmur3 finalizer, because FNV alone leaves the low bits poorly mixed.
     */
    private static long absorb(long state, String s) {
        long h = state;
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * FNV_PRIME;
        }
        return fmix64((h ^ s.length()) * FNV_PRIME);
    }

    /** The murmur3 64-bit finalizer: every input bit affects every output bit. */
    private static long fmix64(long k) {
        k ^= k >>> 33;
        k *= 0xff51afd7ed558ccdL;
        k ^= k >>> 33;
        k *= 0xc4ceb9fe1a85ec53L;
        k ^= k >>> 33;
        return k;
    }

    private record Weighted<R>(R replica, String id, long weight) {
    }
}
