package io.capmesh.crypto;

import io.capmesh.crypto.store.KeyStoreUnavailableException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Turns a key store that will not open into Boot's short start-up report: what is wrong, what to do. */
final class KeyStoreFailureAnalyzer extends AbstractFailureAnalyzer<KeyStoreUnavailableException> {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, KeyStoreUnavailableException cause) {
        return new FailureAnalysis(cause.description(), cause.action(), cause);
    }
}
