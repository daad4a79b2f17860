package io.capmesh.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RendezvousTest {

    private static final List<String> ACCOUNTS = IntStream.range(0, 1000).mapToObj(i -> "account-" + i).toList();
    private static final List<String> THREE = List.of("runtime-a", "runtime-b", "runtime-c");

    /** Which replica each account is routed to for one capability. */
    private static Map<String, String> route(List<String> replicas) {
        Map<String, String> routes = new HashMap<>();
        for (String account : ACCOUNTS) {
            routes.put(account, Rendezvous.rank("text.upper:" + account, replicas, Function.identity()).get(0));
        }
        return routes;
    }

    @ParameterizedTest
    @ValueSource(strings = {"runtime-a,runtime-b,runtime-c", "10.0.0.1:7001,10.0.0.2:7001,10.0.0.3:7001",
        "core-1,core-2,core-3", "a,b,c"})
    void spreadsAccountsWithinTwentyPercentOfEven(String ids) {
        List<String> replicas = List.of(ids.split(","));
        Map<String, Long> perReplica = route(replicas).values().stream()
                .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
        assertThat(perReplica).containsOnlyKeys(replicas);
        // 1000 / 3 = 333; 20% either way.
        assertThat(perReplica.values()).allSatisfy(n -> assertThat(n).isBetween(267L, 400L));
    }

    @Test
    void spreadsManyKeysOverManyReplicasEvenly() {
        List<String> replicas = IntStream.range(0, 10).mapToObj(i -> "runtime-" + i).toList();
        int[] perReplica = new int[10];
        for (int i = 0; i < 20_000; i++) {
            perReplica[replicas.indexOf(Rendezvous.rank("cap:" + i, replicas, Function.identity()).get(0))]++;
        }
        // 2000 each; a well-mixed hash stays within a few standard deviations (~42).
        assertThat(IntStream.of(perReplica).boxed()).allSatisfy(n -> assertThat(n).isBetween(1800, 2200));
    }

    @Test
    void removingAReplicaMovesOnlyTheAccountsItHad() {
        Map<String, String> before = route(THREE);
        Map<String, String> after = route(List.of("runtime-a", "runtime-c"));
        int moved = 0;
        for (String account : ACCOUNTS) {
            if (before.get(account).equals("runtime-b")) {
                moved++;
                assertThat(after.get(account)).isIn("runtime-a", "runtime-c");
            } else {
                assertThat(after.get(account)).as(account).isEqualTo(before.get(account));
            }
        }
        assertThat(moved).isPositive();
    }

    @Test
    void addingAFourthReplicaMovesAboutAQuarterAllToIt() {
        Map<String, String> before = route(THREE);
        List<String> four = new ArrayList<>(THREE);
        four.add("runtime-d");
        Map<String, String> after = route(four);
        int moved = 0;
        for (String account : ACCOUNTS) {
            if (!after.get(account).equals(before.get(account))) {
                moved++;
                assertThat(after.get(account)).as(account).isEqualTo("runtime-d");
            }
        }
        // Expect 250; the standard deviation is about 14.
        assertThat(moved).isBetween(200, 300);
    }

    @Test
    void whenTheFirstChoiceLeavesTheSecondTakesOver() {
        for (String account : ACCOUNTS.subList(0, 100)) {
            List<String> ranked = Rendezvous.rank("text.upper:" + account, THREE, Function.identity());
            List<String> without = new ArrayList<>(THREE);
            without.remove(ranked.get(0));
            assertThat(Rendezvous.rank("text.upper:" + account, without, Function.identity()))
                    .containsExactlyElementsOf(ranked.subList(1, 3));
        }
    }

    @Test
    void rankingIsAPermutationThatIgnoresInputOrder() {
        List<String> replicas = IntStream.range(0, 7).mapToObj(i -> "runtime-" + i).toList();
        List<String> shuffled = new ArrayList<>(replicas);
        Collections.shuffle(shuffled, new Random(42));
        for (String account : ACCOUNTS.subList(0, 50)) {
            List<String> ranked = Rendezvous.rank("cap:" + account, replicas, Function.identity());
            assertThat(ranked).containsExactlyInAnyOrderElementsOf(replicas);
            assertThat(Rendezvous.rank("cap:" + account, shuffled, Function.identity())).isEqualTo(ranked);
        }
    }

    @Test
    void ranksAnyReplicaTypeByItsId() {
        record Replica(String id, int port) {
        }
        List<Replica> replicas = List.of(new Replica("runtime-a", 1), new Replica("runtime-b", 2),
                new Replica("runtime-c", 3));
        assertThat(Rendezvous.rank("text.upper:account-0", replicas, Replica::id)).extracting(Replica::id)
                .containsExactly("runtime-a", "runtime-c", "runtime-b");
        assertThat(Rendezvous.rank("text.upper:account-0", List.<Replica>of(), Replica::id)).isEmpty();
    }

    /** Brokers and their restarts must agree on routing, so the weights are pinned, not just self-consistent. */
    @Test
    void isDeterministicAcrossRunsAndJvms() {
        assertThat(Rendezvous.weight("text.upper:acme", "runtime-a")).isEqualTo(3988802673996411354L);
        assertThat(Rendezvous.weight("text.upper:acme", "runtime-b")).isEqualTo(-965728126396534286L);
        assertThat(Rendezvous.weight("", "")).isEqualTo(6118778247639020127L);
        assertThat(Rendezvous.rank("text.upper:account-1", THREE, Function.identity()))
                .containsExactly("runtime-b", "runtime-c", "runtime-a");
        assertThat(Rendezvous.rank("text.upper:account-5", THREE, Function.identity()))
                .containsExactly("runtime-c", "runtime-a", "runtime-b");
        assertThat(Rendezvous.rank("text.upper:account-6", THREE, Function.identity()))
                .containsExactly("runtime-b", "runtime-a", "runtime-c");
    }

    @Test
    void whereTheKeyEndsAndTheIdBeginsMatters() {
        assertThat(Rendezvous.weight("ab", "c")).isNotEqualTo(Rendezvous.weight("a", "bc"));
    }
}
