package io.capmesh.runtime.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal a crash cannot erase: what a run left in it is what the next open reads. */
class CallJournalTest {

    @TempDir
    Path dir;

    @Test
    void aRunThatNeverClosedWithNothingLoadingNamesWhatWasServing() throws Exception {
        Path file = dir.resolve("call-journal");
        CallJournal crashed = CallJournal.open(file);
        crashed.slot("busy").callStarted();
        crashed.slot("idle").callStarted();
        crashed.slot("idle").callEnded();
        crashed.slot("also-busy").callStarted();
        crashed.abandon();

        try (CallJournal next = CallJournal.open(file)) {
            assertThat(next.suspects()).containsExactly("busy", "also-busy");
        }
    }

    @Test
    void aRunThatNeverClosedWhileLoadingNamesWhatWasLoading() throws Exception {
        Path file = dir.resolve("call-journal");
        CallJournal crashed = CallJournal.open(file);
        assertThat(crashed.lastRunEndedAbnormally()).as("a new journal").isFalse();
        crashed.slot("serving").callStarted();
        crashed.slot("serving").callStarted();
        crashed.slot("serving").callEnded();
        crashed.slot("loading").loadStarted();
        crashed.slot("done").callStarted();
        crashed.slot("done").callEnded();
        crashed.slot("loaded").loadStarted();
        crashed.slot("loaded").loadEnded();
        assertThatThrownBy(() -> CallJournal.open(file)).as("one runtime per data directory")
                .isInstanceOf(CallJournal.InUseException.class).hasMessageContaining("a runtime is running on");
        assertThatThrownBy(() -> CallJournal.checkNotInUse(file)).isInstanceOf(CallJournal.InUseException.class);
        crashed.abandon(); // as after a kill -9: the kernel keeps what was written to the mapped pages
        CallJournal.checkNotInUse(file);

        try (CallJournal next = CallJournal.open(file)) {
            assertThat(next.lastRunEndedAbnormally()).isTrue();
            assertThat(next.suspects()).as("a load under way, rather than the calls in flight")
                    .containsExactly("loading");
            next.slot("serving").callStarted(); // still in flight at a clean close: a clean end all the same
        }
        try (CallJournal after = CallJournal.open(file)) {
            assertThat(after.lastRunEndedAbnormally()).isFalse();
            assertThat(after.suspects()).isEmpty();
        }
    }

    @Test
    void anIdTooLongForASlotIsNotJournaled() throws Exception {
        try (CallJournal journal = CallJournal.open(dir.resolve("call-journal"))) {
            assertThat(journal.slot("x".repeat(200))).isSameAs(CallJournal.Slot.NONE);
            assertThat(journal.slot("fine")).isNotSameAs(CallJournal.Slot.NONE).isSameAs(journal.slot("fine"));
        }
    }
}
