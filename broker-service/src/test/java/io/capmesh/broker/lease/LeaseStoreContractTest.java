package io.capmesh.broker.lease;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.broker.lease.LeaseStore.Grant;
import io.capmesh.broker.lease.LeaseStore.Lease;
import io.capmesh.broker.lease.LeaseStore.Outcome;
import io.capmesh.broker.lease.LeaseStore.Outcome.Kind;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What every {@link LeaseStore} must do, whatever the database. A subclass says how to open a store on its
 * database; the same suite then runs against SQLite here and against PostgreSQL where one is available.
 */
public abstract class LeaseStoreContractTest {

    private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");
    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Grant UPPER = new Grant("text.upper", "1.2.0", "rt-a", "10.0.0.1", 7001);
    private static final Grant HASH = new Grant("crypto.sha256", "2.0.0", "rt-b", "10.0.0.2", 7002);

    protected final MutableClock clock = new MutableClock(START);
    private final List<LeaseStore> opened = new ArrayList<>();
    private LeaseStore store;

    /**
     * Opens a store on this test's database: an empty database for each test, the same one for every call
     * within a test (several stores on one database stand for several brokers).
     */
    protected abstract LeaseStore open(Clock clock);

    /** A plain connection to this test's database, to look behind the store. */
    protected abstract Connection rawConnection() throws SQLException;

    protected final LeaseStore store() {
        if (store == null) {
            store = another();
        }
        return store;
    }

    protected final LeaseStore another() {
        LeaseStore s = open(clock);
        synchronized (opened) {
            opened.add(s);
        }
        return s;
    }

    @AfterEach
    void closeStores() {
        opened.forEach(LeaseStore::close);
    }

    @Test
    void placementsCountTheActiveLeasesOfOneCapabilityPerRuntimeAndFindTheAccountsNewest() {
        Grant upperOnB = new Grant("text.upper", "1.2.0", "rt-b", "10.0.0.2", 7002);
        store().create("acme", List.of(UPPER, HASH), TTL);
        store().create("globex", List.of(UPPER), TTL);
        store().create("initech", List.of(upperOnB), TTL);
        Lease released = store().create("umbrella", List.of(upperOnB), TTL);
        store().release(released.id(), "umbrella");
        clock.advance(Duration.ofSeconds(1));
        store().create("acme", List.of(upperOnB), Duration.ofSeconds(5));

        LeaseStore.Placements acme = another().placements("text.upper", "acme");
        assertThat(acme.leasesByRuntime()).isEqualTo(Map.of("rt-a", 2L, "rt-b", 2L));
        assertThat(acme.accountRuntime()).as("its newest lease").contains("rt-b");
        assertThat(store().placements("text.upper", "hooli").accountRuntime()).isEmpty();
        assertThat(store().placements("crypto.sha256", "globex").leasesByRuntime()).isEqualTo(Map.of("rt-b", 1L));

        clock.advance(Duration.ofSeconds(5)); // acme's newest expired: its older one on rt-a is where it is
        assertThat(store().placements("text.upper", "acme"))
                .isEqualTo(new LeaseStore.Placements(Map.of("rt-a", 2L, "rt-b", 1L), java.util.Optional.of("rt-a")));
    }

    @Test
    void createdLeaseIsFoundWithItsGrantsInOrder() {
        Lease lease = store().create("acme", List.of(UPPER, HASH), TTL);

        assertThat(lease.id()).matches("[0-9a-f]{32}");
        assertThat(lease.account()).isEqualTo("acme");
        assertThat(lease.expiresAt()).isEqualTo(START.plus(TTL));
        assertThat(lease.grants()).containsExactly(UPPER, HASH);
        assertThat(store().find(lease.id())).contains(lease);
        assertThat(store().count()).isEqualTo(1);
    }

    @Test
    void leaseWithoutGrantsRoundTrips() {
        Lease lease = store().create("acme", List.of(), TTL);
        assertThat(store().find(lease.id())).contains(lease);
    }

    @Test
    void idsAreRandomAndUnique() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 500; i++) {
            ids.add(store().create("acme", List.of(), TTL).id());
        }
        assertThat(ids).hasSize(500).allSatisfy(id -> assertThat(id).matches("[0-9a-f]{32}"));
    }

    @Test
    void unknownLeaseIsNotFound() {
        assertThat(store().find("0123456789abcdef0123456789abcdef")).isEmpty();
        assertThat(store().renew("nope", "acme", TTL)).isEqualTo(Outcome.NOT_FOUND);
        assertThat(store().release("nope", "acme")).isEqualTo(Outcome.NOT_FOUND);
    }

    @Test
    void leaseExpiresAtItsExpiryInstantEvenBeforeItIsSweptAway() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);

        clock.set(lease.expiresAt().minusMillis(1));
        assertThat(store().find(lease.id())).isPresent();
        assertThat(store().count()).isEqualTo(1);
        assertThat(store().byRuntime("rt-a")).hasSize(1);

        clock.set(lease.expiresAt());
        assertThat(store().find(lease.id())).isEmpty();
        assertThat(store().count()).isZero();
        assertThat(store().byRuntime("rt-a")).isEmpty();
    }

    @Test
    void renewMovesTheExpiryToTtlFromNow() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);
        Instant renewedAt = clock.advance(Duration.ofSeconds(20));

        Outcome outcome = store().renew(lease.id(), "acme", Duration.ofMinutes(1));

        assertThat(outcome).isEqualTo(Outcome.renewed(renewedAt.plus(Duration.ofMinutes(1))));
        assertThat(outcome.kind()).isEqualTo(Kind.RENEWED);
        clock.set(lease.expiresAt().plusSeconds(1));
        assertThat(store().find(lease.id())).hasValueSatisfying(found -> {
            assertThat(found.expiresAt()).isEqualTo(outcome.expiresAt());
            assertThat(found.grants()).containsExactly(UPPER);
        });
    }

    @Test
    void renewOfAnotherAccountsLeaseChangesNothing() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);

        assertThat(store().renew(lease.id(), "globex", Duration.ofHours(1))).isEqualTo(Outcome.WRONG_ACCOUNT);
        assertThat(store().find(lease.id())).contains(lease);
    }

    @Test
    void releaseOfAnotherAccountsLeaseChangesNothing() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);

        assertThat(store().release(lease.id(), "globex")).isEqualTo(Outcome.WRONG_ACCOUNT);
        assertThat(store().find(lease.id())).contains(lease);
    }

    @Test
    void releaseRemovesTheLeaseAndItsGrantsOnce() throws SQLException {
        Lease lease = store().create("acme", List.of(UPPER, HASH), TTL);
        Lease other = store().create("acme", List.of(UPPER), TTL);
        Instant releasedAt = clock.advance(Duration.ofSeconds(5));

        assertThat(store().release(lease.id(), "acme")).isEqualTo(Outcome.released(releasedAt));

        assertThat(store().find(lease.id())).isEmpty();
        assertThat(store().release(lease.id(), "acme")).isEqualTo(Outcome.NOT_FOUND);
        assertThat(store().renew(lease.id(), "acme", TTL)).isEqualTo(Outcome.NOT_FOUND);
        assertThat(store().byRuntime("rt-a")).containsExactly(other);
        assertThat(grantRows()).isEqualTo(1);
    }

    @Test
    void aReleasedLeaseIsRememberedByEveryStoreUntilItWouldHaveExpired() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);
        Lease kept = store().create("acme", List.of(UPPER), TTL);
        store().create("acme", List.of(HASH), TTL);
        clock.advance(Duration.ofSeconds(5));
        store().release(lease.id(), "acme");
        store().release(lease.id(), "acme"); // a second release remembers nothing more

        assertThat(store().released(clock.instant())).containsExactly(Map.entry(lease.id(), lease.expiresAt()));
        assertThat(another().released(clock.instant())).containsOnlyKeys(lease.id()); // another broker, same store
        assertThat(store().released(clock.instant())).doesNotContainKey(kept.id());

        store().expire(lease.expiresAt());
        assertThat(store().released(START)).isEmpty();
    }

    @Test
    void expiredLeaseCanNeitherBeRenewedNorReleased() {
        Lease lease = store().create("acme", List.of(UPPER), TTL);
        clock.set(lease.expiresAt().plusMillis(1));

        assertThat(store().renew(lease.id(), "acme", TTL)).isEqualTo(Outcome.NOT_FOUND);
        assertThat(store().release(lease.id(), "acme")).isEqualTo(Outcome.NOT_FOUND);
        // Whose it was is nobody's business once it has expired.
        assertThat(store().renew(lease.id(), "globex", TTL)).isEqualTo(Outcome.NOT_FOUND);
        assertThat(store().find(lease.id())).isEmpty();
    }

    @Test
    void expireRemovesExpiredLeasesWithTheirGrantsAndSaysHowMany() throws SQLException {
        Lease first = store().create("acme", List.of(UPPER, HASH), Duration.ofSeconds(10));
        Lease second = store().create("globex", List.of(UPPER), Duration.ofSeconds(20));
        Lease third = store().create("acme", List.of(HASH), Duration.ofSeconds(30));

        assertThat(store().expire(START.plusSeconds(5))).isZero();
        assertThat(store().expire(second.expiresAt())).isEqualTo(2);
        assertThat(store().expire(second.expiresAt())).isZero();

        assertThat(grantRows()).isEqualTo(1);
        assertThat(store().find(third.id())).contains(third);
        assertThat(store().find(first.id())).isEmpty();
        assertThat(store().count()).isEqualTo(1);
    }

    @Test
    void countCountsActiveLeasesOnly() {
        store().create("acme", List.of(), Duration.ofSeconds(10));
        store().create("acme", List.of(), Duration.ofSeconds(20));
        store().create("globex", List.of(), Duration.ofSeconds(30));

        assertThat(store().count()).isEqualTo(3);
        clock.advance(Duration.ofSeconds(15));
        assertThat(store().count()).isEqualTo(2);
        clock.advance(Duration.ofSeconds(15));
        assertThat(store().count()).isZero();
    }

    @Test
    void byRuntimeFindsActiveLeasesWithAllTheirGrants() {
        Lease both = store().create("acme", List.of(UPPER, HASH), TTL);
        Lease onlyB = store().create("globex", List.of(HASH), TTL);
        store().create("acme", List.of(UPPER), TTL);
        store().create("initech", List.of(HASH), Duration.ofSeconds(1));
        clock.advance(Duration.ofSeconds(1));

        assertThat(store().byRuntime("rt-b")).containsExactlyInAnyOrder(both, onlyB);
        assertThat(store().byRuntime("rt-b")).filteredOn(l -> l.id().equals(both.id()))
                .singleElement().extracting(Lease::grants).isEqualTo(List.of(UPPER, HASH));
        assertThat(store().byRuntime("rt-z")).isEmpty();
    }

    @Test
    void rejectsLeasesWithoutAccountOrLifetime() {
        assertThatThrownBy(() -> store().create(" ", List.of(UPPER), TTL))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("account");
        assertThatThrownBy(() -> store().create("acme", List.of(UPPER), Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive time to live");
        assertThatThrownBy(() -> store().create("acme", List.of(UPPER), Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        Lease lease = store().create("acme", List.of(UPPER), TTL);
        assertThatThrownBy(() -> store().renew(lease.id(), "acme", Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(store().count()).isEqualTo(1);
    }

    /** Brokers sharing a database share leases: nothing about a lease lives in one broker's memory. */
    @Test
    void storesOnOneDatabaseSeeTheSameLeases() {
        LeaseStore first = store();
        LeaseStore second = another();
        Lease lease = first.create("acme", List.of(UPPER), TTL);

        assertThat(second.find(lease.id())).contains(lease);
        Outcome renewed = second.renew(lease.id(), "acme", Duration.ofMinutes(5));
        assertThat(first.find(lease.id())).map(Lease::expiresAt).contains(renewed.expiresAt());
        assertThat(second.release(lease.id(), "acme").kind()).isEqualTo(Kind.RELEASED);
        assertThat(first.release(lease.id(), "acme")).isEqualTo(Outcome.NOT_FOUND);
    }

    @Test
    void leasesOutliveTheStoreThatMadeThem() {
        LeaseStore first = another();
        Lease lease = first.create("acme", List.of(UPPER, HASH), TTL);
        first.close();

        assertThat(another().find(lease.id())).contains(lease);
    }

    /** Brokers starting at once each create the schema if it is absent; none may fail. */
    @Test
    void storesOpenedAtOnceOnAnEmptyDatabaseAllWork() throws Exception {
        int n = 8;
        CountDownLatch go = new CountDownLatch(1);
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Queue<LeaseStore> stores = new ConcurrentLinkedQueue<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            threads.add(start("open-" + i, () -> {
                try {
                    go.await();
                    stores.add(another());
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();
        assertThat(stores).hasSize(n);
        stores.forEach(s -> s.create("acme", List.of(UPPER), TTL));
        assertThat(store().count()).isEqualTo(n);
    }

    /**
     * Many threads on two stores (two brokers) create, renew and release leases at random, some of them on
     * the same lease at once, while the clock moves and a sweeper expires leases. Afterwards each lease was
     * released at most once, and every lease created is accounted for exactly once: released, expired or still
     * there.
     */
    @Test
    void concurrentCreateRenewReleaseAndExpireLoseNothingAndDoubleNothing() throws Exception {
        LeaseStore[] brokers = {store(), another()};
        Map<String, String> accounts = new ConcurrentHashMap<>();
        List<String> ids = new ArrayList<>();
        Map<String, AtomicInteger> releases = new ConcurrentHashMap<>();
        AtomicLong created = new AtomicLong();
        AtomicLong renewed = new AtomicLong();
        AtomicLong expired = new AtomicLong();
        Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
        AtomicBoolean running = new AtomicBoolean(true);
        int operationsPerWorker = 30; // bounded by count, not time: a busy machine still does all the work

        List<Thread> threads = new ArrayList<>();
        threads.add(start("ticker", () -> {
            while (running.get()) {
                clock.advance(Duration.ofMillis(5));
                sleep(1);
            }
        }));
        threads.add(start("sweeper", () -> {
            while (running.get()) {
                try {
                    expired.addAndGet(brokers[0].expire(clock.instant()));
                } catch (Throwable t) {
                    failures.add(t);
                }
                sleep(3);
            }
        }));
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < 50; w++) {
            LeaseStore broker = brokers[w % 2];
            workers.add(start("worker-" + w, () -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                try {
                    for (int i = 0; i < operationsPerWorker; i++) {
                        int op = random.nextInt(10);
                        String id = pick(ids, random);
                        if (op < 4 || id == null) {
                            String account = "account-" + random.nextInt(5);
                            Duration ttl = random.nextBoolean() ? Duration.ofMillis(20 + random.nextInt(200))
                                    : Duration.ofHours(1);
                            Lease lease = broker.create(account, List.of(UPPER, HASH), ttl);
                            created.incrementAndGet();
                            assertThat(accounts.put(lease.id(), account)).as("id reused").isNull();
                            releases.put(lease.id(), new AtomicInteger());
                            synchronized (ids) {
                                ids.add(lease.id());
                            }
                        } else if (op < 7) {
                            Outcome outcome = broker.renew(id, accounts.get(id), Duration.ofHours(1));
                            assertThat(outcome.kind()).isIn(Kind.RENEWED, Kind.NOT_FOUND);
                            if (outcome.kind() == Kind.RENEWED) {
                                renewed.incrementAndGet();
                            }
                        } else if (op < 9) {
                            Outcome outcome = broker.release(id, accounts.get(id));
                            assertThat(outcome.kind()).isIn(Kind.RELEASED, Kind.NOT_FOUND);
                            if (outcome.kind() == Kind.RELEASED) {
                                releases.get(id).incrementAndGet();
                            }
                        } else {
                            Outcome renew = broker.renew(id, "intruder", Duration.ofHours(1));
                            Outcome release = broker.release(id, "intruder");
                            assertThat(renew.kind()).isIn(Kind.WRONG_ACCOUNT, Kind.NOT_FOUND);
                            assertThat(release.kind()).isIn(Kind.WRONG_ACCOUNT, Kind.NOT_FOUND);
                        }
                    }
                } catch (Throwable t) {
                    failures.add(t);
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        running.set(false);
        for (Thread t : threads) {
            t.join();
        }
        assertThat(failures).isEmpty();

        expired.addAndGet(brokers[1].expire(clock.instant()));
        long released = releases.values().stream().filter(n -> n.get() > 0).count();
        long remaining = brokers[0].count();

        assertThat(created.get()).as("leases created").isGreaterThan(100).isEqualTo(accounts.size());
        assertThat(renewed.get()).as("renewals").isPositive();
        assertThat(releases.values()).allSatisfy(n -> assertThat(n.get()).as("releases of one lease").isLessThan(2));
        assertThat(released).as("releases").isPositive();
        assertThat(expired.get()).as("expired").isPositive();
        assertThat(released + expired.get() + remaining).as("released + expired + remaining")
                .isEqualTo(created.get());
        assertThat(brokers[1].count()).isEqualTo(remaining);
        assertThat(grantRows()).as("grants left").isEqualTo(2 * remaining);
        releases.forEach((id, n) -> {
            if (n.get() == 1) {
                assertThat(brokers[0].find(id)).as("released " + id).isEmpty();
            }
        });
    }

    private long grantRows() throws SQLException {
        try (Connection c = rawConnection();
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM lease_grant")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String pick(List<String> ids, ThreadLocalRandom random) {
        synchronized (ids) {
            return ids.isEmpty() ? null : ids.get(random.nextInt(ids.size()));
        }
    }

    private static Thread start(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.start();
        return thread;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
