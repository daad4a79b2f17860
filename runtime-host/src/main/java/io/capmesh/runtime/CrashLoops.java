package io.capmesh.runtime;

import io.capmesh.runtime.store.CallJournal;
import io.capmesh.runtime.store.ExtensionStore;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decides at start which stored extensions a crash loop quarantines. The journal says whether the last run ended
 * abnormally and which ids were loading or had calls in flight then; the store keeps those ends until a run ends
 * cleanly. An id named by each of the last {@code quarantine-after} ends, all within the window, is quarantined.
 */
final class CrashLoops {

    private static final System.Logger LOG = System.getLogger(CrashLoops.class.getName());

    private CrashLoops() {
    }

    /** Records the last run's end and answers the ids it quarantines now (also written to the store). */
    static Map<String, ExtensionStore.Quarantine> quarantine(CallJournal journal, ExtensionStore store,
                                                            List<ExtensionStore.StoredExtension> stored,
                                                            RuntimeSettings.Recovery recovery, Instant now) {
        if (journal == null) {
            return Map.of();
        }
        if (!journal.lastRunEndedAbnormally()) {
            store.clearAbnormalEnds(); // a clean end breaks any loop
            return Map.of();
        }
        List<String> suspects = journal.suspects();
        store.recordAbnormalEnd(new ExtensionStore.AbnormalEnd(now, suspects));
        LOG.log(System.Logger.Level.WARNING, "the last run of this runtime ended abnormally (killed, crashed, out of"
                + " memory, or an exit the guard did not see) " + (suspects.isEmpty() ? "with no extension loading"
                + " or serving a call" : "while these were loading or had calls in flight: "
                + String.join(", ", suspects)));
        int after = recovery.quarantineAfter();
        List<ExtensionStore.AbnormalEnd> ends = store.abnormalEnds(); // newest first
        if (after == 0 || ends.size() < after
                || ends.get(after - 1).at().isBefore(now.minus(recovery.window()))) {
            return Map.of();
        }
        Set<String> common = new HashSet<>(ends.get(0).suspects());
        for (ExtensionStore.AbnormalEnd end : ends.subList(1, after)) {
            common.retainAll(end.suspects());
        }
        Map<String, ExtensionStore.Quarantine> quarantined = new LinkedHashMap<>();
        for (ExtensionStore.StoredExtension extension : stored) {
            String id = extension.manifest().id();
            if (common.contains(id) && extension.quarantine() == null) {
                ExtensionStore.Quarantine quarantine = new ExtensionStore.Quarantine("the runtime had " + after
                        + " abnormal ends in a row (the first noticed at " + ends.get(after - 1).at() + ") while "
                        + extension.manifest().coordinates() + " was loading or had calls in flight; fix it and run"
                        + " capmesh quarantine release " + id + ", or deploy a fixed version", now);
                store.quarantine(id, quarantine);
                quarantined.put(id, quarantine);
            }
        }
        return quarantined;
    }
}
