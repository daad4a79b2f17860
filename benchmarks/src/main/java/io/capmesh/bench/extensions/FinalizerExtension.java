package io.capmesh.bench.extensions;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.ArrayList;
import java.util.List;

/**
 * Finalizers scenario: holds many objects of a class with a finalizer, so collecting the loader needs the
 * finalizer thread to run them first and another cycle after that.
 */
public final class FinalizerExtension implements Extension {

    private final List<Finalizable> held = new ArrayList<>();

    @Override
    public void start(ExtensionContext context) {
        for (int i = 0; i < 10_000; i++) {
            held.add(new Finalizable(i));
        }
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        held.add(new Finalizable(held.size()));
        return invocation.payload();
    }

    /** Finalizable on purpose. */
    static final class Finalizable {
        private final int value;

        Finalizable(int value) {
            this.value = value;
        }

        @Override
        @SuppressWarnings({"deprecation", "removal"})
        protected void finalize() {
            if (value < 0) {
                throw new IllegalStateException();
            }
        }
    }
}
