package io.capmesh.bench;

import io.capmesh.runtime.RuntimeHost;
import io.capmesh.runtime.RuntimeSettings;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.ExtensionPackage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;

/** A runtime host in this JVM, on a data directory of its own that is deleted on close. */
final class InProcessRuntime implements AutoCloseable {

    private final Path dir;
    private final RuntimeHost host;
    private final ExtensionJars jars;

    InProcessRuntime(Duration reclaimWindow, Duration drainTimeout) {
        this(reclaimWindow, drainTimeout, UnaryOperator.identity());
    }

    /** @param tune changes to the settings, e.g. heap dumps for leak paths */
    InProcessRuntime(Duration reclaimWindow, Duration drainTimeout, UnaryOperator<RuntimeSettings> tune) {
        try {
            this.dir = Files.createTempDirectory("capmesh-bench-runtime");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RuntimeSettings defaults = RuntimeSettings.defaults(dir.resolve("data"));
        this.host = new RuntimeHost(tune.apply(new RuntimeSettings(defaults.dataDirectory(),
                defaults.packageLimits(), defaults.maxPayloadBytes(), defaults.maxCallTime(), drainTimeout,
                reclaimWindow, defaults.maxConcurrentCalls(), defaults.tierPackages(), defaults.settings())));
        host.start(List.of());
        this.jars = new ExtensionJars(dir.resolve("jars"));
    }

    InProcessRuntime() {
        this(Duration.ofSeconds(2), Duration.ofSeconds(10));
    }

    RuntimeHost host() {
        return host;
    }

    ExtensionJars jars() {
        return jars;
    }

    ExtensionPackage read(Path jar) {
        return host.runtime().reader().read(jar);
    }

    LoadedExtension deploy(Path jar) {
        return host.runtime().deploy(read(jar));
    }

    @Override
    public void close() {
        host.close();
        try {
            Directories.delete(dir);
        } catch (UncheckedIOException ignored) {
            // a temporary directory left behind is harmless
        }
    }
}
