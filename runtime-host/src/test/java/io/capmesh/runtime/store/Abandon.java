package io.capmesh.runtime.store;

/** For tests of what a crash leaves: lets go of a journal without marking its run ended. */
public final class Abandon {

    private Abandon() {
    }

    public static void abandon(CallJournal journal) throws java.io.IOException {
        journal.abandon();
    }
}
