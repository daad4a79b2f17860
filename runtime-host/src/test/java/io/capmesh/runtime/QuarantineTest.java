package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.ReleaseQuarantineRequest;
import io.capmesh.proto.v1.UnloadRequest;
import io.capmesh.runtime.store.Abandon;
import io.capmesh.runtime.store.CallJournal;
import io.capmesh.runtime.store.ExtensionStore;
import io.capmesh.runtime.store.SqliteExtensionStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a start decides after abnormal ends, and how a runtime treats what it keeps quarantined. The crash loop of a
 * real process is CrashLoopQuarantineIT's; here the journal's crashes are made by leaving it open.
 */
class QuarantineTest {

    private static final RuntimeSettings.Recovery THREE_IN_AN_HOUR = RuntimeSettings.Recovery.DEFAULT;

    @TempDir
    Path data;

    @Test
    void anExtensionBusyAtEachOfTheLastThreeAbnormalEndsIsQuarantined() throws Exception {
        Instant now = Instant.parse("2026-12-07T10:00:00Z");
        try (SqliteExtensionStore store = storeWith("looping", "bystander")) {
            crash("looping", "bystander");
            assertThat(decide(store, now)).isEmpty();
            crash("looping");
            assertThat(decide(store, now.plusSeconds(10))).isEmpty();
            crash("looping", "bystander");
            Map<String, ExtensionStore.Quarantine> third = decide(store, now.plusSeconds(20));

            assertThat(third).containsOnlyKeys("looping");
            assertThat(third.get("looping").reason()).contains("3 abnormal ends in a row", "looping@1.0.0",
                    "capmesh quarantine release looping");
            assertThat(store.all()).filteredOn(e -> e.manifest().id().equals("looping")).singleElement()
                    .extracting(ExtensionStore.StoredExtension::quarantine).isEqualTo(third.get("looping"));
        }
    }

    @Test
    void aCleanEndOrOldCrashesBreakTheLoop() throws Exception {
        Instant now = Instant.parse("2026-12-07T10:00:00Z");
        try (SqliteExtensionStore store = storeWith("looping")) {
            crash("looping");
            decide(store, now);
            crash("looping");
            decide(store, now.plusSeconds(10));
            CallJournal.open(data.resolve(CallJournal.FILE)).close(); // a run that ended cleanly
            decide(store, now.plusSeconds(20));
            crash("looping");
            assertThat(decide(store, now.plusSeconds(30))).as("one crash since the clean end").isEmpty();
            crash("looping");
            decide(store, now.plusSeconds(40));
            crash("looping");
            assertThat(decide(store, now.plus(Duration.ofHours(2)))).as("the first of the three is too old")
                    .isEmpty();
        }
    }

    @Test
    void aQuarantinedExtensionIsNeitherOfferedNorLoadedNorLostAndReleaseLoadsIt() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            runtime.deploy("capmesh-ext-echo");
        }
        try (TestRuntime runtime = new TestRuntime(RuntimeSettings.defaults(data)
                .withRecovery(new RuntimeSettings.Recovery(3, Duration.ofHours(1), true)))) {
            var held = runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance());
            assertThat(held.getExtensionsList()).isEmpty();
            assertThat(held.getQuarantinedList()).singleElement().satisfies(q -> {
                assertThat(q.getManifest().getId()).isEqualTo("core-echo");
                assertThat(q.getReason()).contains("safe mode", "capmesh quarantine release core-echo");
            });
            assertThatThrownBy(() -> runtime.stub().unload(UnloadRequest.newBuilder().setExtensionId("core-echo")
                    .build())).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                        assertThat(e.getStatus().getDescription()).contains("core-echo is quarantined, not loaded");
                    });
            assertThatThrownBy(() -> runtime.host().runtime().load("core-echo"))
                    .isInstanceOf(Problem.ProblemException.class).hasMessageContaining("quarantined");
            // a deploy that fails leaves the quarantined version stored, as it was
            byte[] broken = TestExtensions.rewriteManifest(TestExtensions.bytes("capmesh-ext-echo"),
                    manifest -> manifest.replace("io.capmesh.extensions.echo.EchoExtension", "no.such.Entry"));
            assertThatThrownBy(() -> runtime.deploy(broken)).isInstanceOf(StatusRuntimeException.class);
            assertThat(runtime.host().runtime().isQuarantined("core-echo")).isTrue();

            var released = runtime.stub().releaseQuarantine(ReleaseQuarantineRequest.newBuilder()
                    .setExtensionId("core-echo").build());
            assertThat(released.getExtension().getManifest().getId()).isEqualTo("core-echo");
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "back"))).isEqualTo("back");
            assertThatThrownBy(() -> runtime.stub().releaseQuarantine(ReleaseQuarantineRequest.newBuilder()
                    .setExtensionId("core-echo").build())).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        }
        try (TestRuntime runtime = TestRuntime.in(data)) { // not in safe mode: restored, nothing lost
            assertThat(TestRuntime.text(runtime.invoke("core.echo", "echo", "kept"))).isEqualTo("kept");
        }
    }

    private SqliteExtensionStore storeWith(String... ids) throws Exception {
        SqliteExtensionStore store = new SqliteExtensionStore(data.resolve(SqliteExtensionStore.FILE));
        for (String id : ids) {
            var manifest = new io.capmesh.runtime.pkg.ExtensionManifest(id, "1.0.0", "a.Entry", List.of(
                    new io.capmesh.runtime.pkg.ExtensionManifest.Capability("test." + id, "1.0.0",
                            java.util.Set.of("call"))), List.of(), null);
            store.put(new ExtensionStore.StoredExtension(manifest, "sha", new byte[] {1}, Instant.now(), 0, 0));
        }
        return store;
    }

    /** A run that ends while these have calls in flight: its journal is never closed. */
    private void crash(String... busy) throws Exception {
        CallJournal journal = CallJournal.open(data.resolve(CallJournal.FILE));
        for (String id : busy) {
            journal.slot(id).callStarted();
        }
        Abandon.abandon(journal);
    }

    /** The next start's decision, with its own run's journal closed again at once. */
    private Map<String, ExtensionStore.Quarantine> decide(ExtensionStore store, Instant now) throws Exception {
        try (CallJournal journal = CallJournal.open(data.resolve(CallJournal.FILE))) {
            return CrashLoops.quarantine(journal, store, store.all(), THREE_IN_AN_HOUR, now);
        }
    }
}
