package io.capmesh.cli;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.capmesh.proto.v1.SwapResponse;
import io.grpc.ChannelCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileVisitResult;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dev", sortOptions = false,
        header = "Watch Java sources and swap them into runtimes on every save.",
        description = {"The author's loop: deploys the sources at PATH (a folder or one .java file, as deploy"
                + " --source takes them), then on every save swaps the new sources in. Each round prints the compile"
                + " time, the swap time, the old version's reclamation verdict and the answer to a sample call"
                + " (--call), or the compile errors. Each round's version is the manifest's with -dev.N appended,"
                + " so an unchanged manifest swaps again and again.",
                "Ctrl-C stops watching; the last good version keeps serving."})
final class DevCommand implements Callable<Integer> {

    /** Saves that come together (an editor writing a file twice, a formatter) make one round. */
    private static final Duration QUIET = Duration.ofMillis(150);

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Parameters(index = "0", paramLabel = "PATH", description = "A folder of sources or one .java file.")
    private Path path;

    @Option(names = "--runtime", paramLabel = "TIER|HOST:PORT",
            description = "Where to run it: every runtime of a tier or one runtime's address (default: the tier its"
                    + " first capability is named after, else core).")
    private String runtime;

    @Option(names = "--call", paramLabel = "METHOD",
            description = "After each swap, call this method of its first capability and print the answer.")
    private String call;

    @Option(names = "--data", paramLabel = "STRING", defaultValue = "",
            description = "The sample call's payload, as UTF-8 text (default: empty).")
    private String data;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N rounds (the first deploy is one).")
    private Integer count;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "How long each runtime may take for a round (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    /** Ends each round's version: later rounds, and later sessions, sort after earlier ones. */
    private long round = System.currentTimeMillis() / 1000;

    @Override
    public Integer call() {
        if (count != null && count < 1) {
            throw CliFailure.usage("--count must be at least 1, got " + count);
        }
        if (!Files.exists(path)) {
            throw CliFailure.usage("no such file or folder: " + path);
        }
        ChannelCredentials credentials = target.credentials();
        List<Runtimes.Target> targets = null;
        Set<Runtimes.Target> loaded = new HashSet<>(); // where a version of it serves: swap there, deploy elsewhere
        try (WatchService watcher = FileSystems.getDefault().newWatchService()) {
            watch(watcher); // before the first round, so that no save is missed
            output.say("watching " + path + " (Ctrl-C to stop; the last good version keeps serving)");
            for (int rounds = 1; ; rounds++) {
                try {
                    ExtensionJar sources = ExtensionJar.sources(path, "-dev." + round++);
                    if (targets == null) {
                        targets = targets(sources, credentials);
                    }
                    for (Runtimes.Target runtime : targets) {
                        try {
                            round(sources, runtime, credentials, loaded);
                        } catch (CliFailure e) { // one runtime's refusal: the others still get the round
                            output.err().println(e.getMessage());
                            output.err().flush();
                        }
                    }
                } catch (CliFailure e) {
                    output.err().println(e.getMessage()); // a bad save: say why, and wait for the next one
                    output.err().flush();
                }
                if (count != null && rounds >= count) {
                    return ExitCode.OK;
                }
                awaitChange(watcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot watch " + path, e);
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
            return ExitCode.OK;
        }
    }

    private List<Runtimes.Target> targets(ExtensionJar sources, ChannelCredentials credentials) {
        return Runtimes.forDeploy(runtime, sources, target.broker(), credentials);
    }

    /**
     * Swaps where a version of it serves, deploys where none does (and swaps after all when the runtime has one
     * from before, or deploys when it lost it), then makes the sample call.
     */
    private void round(ExtensionJar sources, Runtimes.Target runtime, ChannelCredentials credentials,
                       Set<Runtimes.Target> loaded) {
        String version = sources.manifest().map(ExtensionJar.Manifest::coordinates).orElse(path.toString());
        try (Remote remote = Remote.runtime(runtime.address(), credentials)) {
            var stub = RuntimeServiceGrpc.newStub(remote.channel()).withDeadlineAfter(timeout.toMillis(),
                    TimeUnit.MILLISECONDS);
            boolean swap = loaded.contains(runtime);
            String line;
            try {
                line = swap ? swap(stub, sources, version, runtime) : deploy(stub, sources, version, runtime);
            } catch (StatusRuntimeException e) {
                Status.Code code = e.getStatus().getCode();
                boolean otherWay = swap ? code == Status.Code.NOT_FOUND
                        : code == Status.Code.FAILED_PRECONDITION && e.getStatus().getDescription() != null
                                && e.getStatus().getDescription().contains("is loaded")
                                || code == Status.Code.ALREADY_EXISTS;
                if (!otherWay) {
                    throw e;
                }
                swap = !swap;
                line = swap ? swap(stub, sources, version, runtime) : deploy(stub, sources, version, runtime);
            }
            loaded.add(runtime);
            output.say(line);
            if (call != null) {
                sample(remote, sources);
            }
        } catch (StatusRuntimeException e) {
            throw DeployCommand.refused("dev round", sources, runtime, e);
        }
    }

    private String deploy(RuntimeServiceGrpc.RuntimeServiceStub stub, ExtensionJar sources, String version,
                          Runtimes.Target runtime) {
        DeployResponse deployed = Upload.deploy(stub, sources, timeout);
        return version + " on " + runtime.name() + ": compiled in " + micros(deployed.getCompileMicros())
                + ", deployed in " + micros(deployed.getLoadMicros());
    }

    private String swap(RuntimeServiceGrpc.RuntimeServiceStub stub, ExtensionJar sources, String version,
                        Runtimes.Target runtime) {
        SwapResponse swapped = Upload.swap(stub, sources, timeout);
        Reclamation old = swapped.getPrevious().getReclamation();
        return version + " on " + runtime.name() + ": compiled in " + micros(swapped.getCompileMicros())
                + ", swapped in " + micros(swapped.getSwapMicros()) + "; " + swapped.getPrevious().getVersion() + " "
                + old.getState() + (old.getCausesCount() > 0 ? " (" + String.join("; ", old.getCausesList()) + ")"
                : "");
    }

    private void sample(Remote remote, ExtensionJar sources) {
        String capability = sources.manifest().map(ExtensionJar.Manifest::capabilities)
                .filter(capabilities -> !capabilities.isEmpty()).map(capabilities -> capabilities.get(0).name())
                .orElseThrow(() -> CliFailure.usage("--call: the manifest names no capability"));
        try {
            InvokeResponse answer = RuntimeServiceGrpc.newBlockingStub(remote.channel())
                    .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .invoke(InvokeRequest.newBuilder().setCapability(capability).setMethod(call)
                            .setPayload(ByteString.copyFromUtf8(data)).build());
            output.say("  " + capability + " " + call + " -> " + answer.getPayload().toString(StandardCharsets.UTF_8));
        } catch (StatusRuntimeException e) {
            output.say("  " + capability + " " + call + " -> " + e.getStatus().getCode() + ": "
                    + e.getStatus().getDescription());
        }
    }

    private static String micros(long micros) {
        return micros == 0 ? "0 ms (compiled before)" : Durations.brief(Duration.ofNanos(micros * 1000));
    }

    private void watch(WatchService watcher) throws IOException {
        if (!Files.isDirectory(path)) { // one file: its folder, whatever that folder is called
            path.toAbsolutePath().getParent().register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                    StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
            return;
        }
        Files.walkFileTree(path, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path folder, BasicFileAttributes attributes) throws IOException {
                if (!isSourceFolder(folder)) {
                    return FileVisitResult.SKIP_SUBTREE; // build output is not watched, nor walked
                }
                try {
                    folder.register(watcher, StandardWatchEventKinds.ENTRY_CREATE,
                            StandardWatchEventKinds.ENTRY_MODIFY, StandardWatchEventKinds.ENTRY_DELETE);
                } catch (NoSuchFileException gone) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE; // gone while walked
                }
                throw e;
            }
        });
    }

    /** Blocks until something under the path changed and then stayed quiet for a moment. */
    private void awaitChange(WatchService watcher) throws InterruptedException, IOException {
        for (boolean changed = false; ; ) {
            WatchKey key = changed ? watcher.poll(QUIET.toMillis(), TimeUnit.MILLISECONDS) : watcher.take();
            if (key == null) {
                return;
            }
            Path folder = (Path) key.watchable();
            for (var event : key.pollEvents()) {
                Path changedPath = event.context() instanceof Path name ? folder.resolve(name) : folder;
                if (Files.isDirectory(path) ? isSourceFolder(changedPath)
                        : changedPath.getFileName().equals(path.getFileName())) {
                    changed = true;
                    if (Files.isDirectory(changedPath) && event.kind() == StandardWatchEventKinds.ENTRY_CREATE) {
                        watch(watcher); // a new folder of sources
                    }
                }
            }
            key.reset();
        }
    }

    /** Build output, hidden folders and tests under the path change without changing the extension's sources. */
    private boolean isSourceFolder(Path folder) {
        return ExtensionJar.isSourceFolder(path, folder);
    }
}
