package io.capmesh.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class BoundedLoadTest {

    private static final List<String> REPLICAS = List.of("rt-a", "rt-b", "rt-c");

    @Test
    void theBoundIsCTimesTheAverageCountingTheNewKeyRoundedUp() {
        assertThat(BoundedLoad.bound(0, 3, 1.25)).isEqualTo(1);
        assertThat(BoundedLoad.bound(299, 3, 1.25)).isEqualTo(125);
        assertThat(BoundedLoad.bound(11, 4, 1.0)).isEqualTo(3);
    }

    @Test
    void aKeyAlreadyPlacedStaysEvenOnAFullReplica() {
        List<String> order = BoundedLoad.order(REPLICAS, Function.identity(),
                Map.of("rt-a", 100L, "rt-b", 0L, "rt-c", 0L), Optional.of("rt-a"), 1.25);
        assertThat(order).containsExactly("rt-a", "rt-b", "rt-c");
        // placed on a replica that is no longer a candidate: placed anew
        assertThat(BoundedLoad.order(REPLICAS, Function.identity(), Map.of(), Optional.of("rt-gone"), 1.25))
                .containsExactly("rt-a", "rt-b", "rt-c");
    }

    @Test
    void aNewKeySkipsReplicasAtTheBoundKeepingTheRankingOtherwise() {
        // 10 leases over 3 replicas: bound ceil(1.25 * 11 / 3) = 5
        List<String> order = BoundedLoad.order(REPLICAS, Function.identity(),
                Map.of("rt-a", 5L, "rt-b", 4L, "rt-c", 1L), Optional.empty(), 1.25);
        assertThat(order).containsExactly("rt-b", "rt-c", "rt-a");
        assertThat(BoundedLoad.order(REPLICAS, Function.identity(), Map.of("rt-a", 4L, "rt-b", 5L, "rt-c", 1L),
                Optional.empty(), 1.25)).containsExactly("rt-a", "rt-c", "rt-b");
    }

    @Test
    void placingManyKeysOneAtATimeNeverFillsAReplicaPastTheBoundAndMovesOnlyWhatMust() {
        double factor = 1.25;
        Map<String, Long> load = new HashMap<>(Map.of("rt-a", 0L, "rt-b", 0L, "rt-c", 0L));
        int moved = 0;
        for (int account = 0; account < 1000; account++) {
            List<String> ranked = Rendezvous.rank("core.json:account-" + account, REPLICAS, Function.identity());
            long total = load.values().stream().mapToLong(Long::longValue).sum();
            String chosen = BoundedLoad.order(ranked, Function.identity(), load, Optional.empty(), factor).get(0);
            assertThat(load.get(chosen) + 1).isLessThanOrEqualTo(BoundedLoad.bound(total, 3, factor));
            if (!chosen.equals(ranked.get(0))) {
                assertThat(load.get(ranked.get(0))).as("moved only off a full replica")
                        .isGreaterThanOrEqualTo(BoundedLoad.bound(total, 3, factor));
                moved++;
            }
            load.merge(chosen, 1L, Long::sum);
        }
        assertThat(load.values()).allSatisfy(count -> assertThat(count).isLessThanOrEqualTo(417));
        assertThat(moved).as("rendezvous alone is nearly balanced: few keys need to move").isLessThan(100);
    }
}
