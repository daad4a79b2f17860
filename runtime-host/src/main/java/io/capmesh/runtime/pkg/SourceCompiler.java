package io.capmesh.runtime.pkg;

import io.capmesh.runtime.Problem;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.module.ModuleDescriptor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jdt.core.compiler.CategorizedProblem;
import org.eclipse.jdt.core.compiler.CompilationProgress;
import org.eclipse.jdt.internal.compiler.ClassFile;
import org.eclipse.jdt.internal.compiler.CompilationResult;
import org.eclipse.jdt.internal.compiler.Compiler;
import org.eclipse.jdt.internal.compiler.DefaultErrorHandlingPolicies;
import org.eclipse.jdt.internal.compiler.batch.CompilationUnit;
import org.eclipse.jdt.internal.compiler.classfmt.ClassFileReader;
import org.eclipse.jdt.internal.compiler.classfmt.ClassFormatException;
import org.eclipse.jdt.internal.compiler.env.ICompilationUnit;
import org.eclipse.jdt.internal.compiler.env.INameEnvironment;
import org.eclipse.jdt.internal.compiler.env.NameEnvironmentAnswer;
import org.eclipse.jdt.internal.compiler.impl.CompilerOptions;
import org.eclipse.jdt.internal.compiler.problem.DefaultProblemFactory;

/**
 * Compiles an extension's Java sources in memory with ECJ (the Eclipse compiler, which runs on a JRE), against only
 * what the extension's classloader will let it see: the JDK's exported packages, the host's shared packages (the
 * extension API, gRPC, protobuf and the tier's libraries) and the package's bundled classes. The host's own classes
 * are invisible, as they are to a jar's. Class files are looked up one by one, as Tomcat's JSP compiler does, so no
 * class path is listed or written to disk. Annotation processing is off, and a compile past its deadline is
 * cancelled.
 */
public final class SourceCompiler {

    /** Bytecode of release 17, as the host's own: what a runtime on JDK 17 loads too. */
    static final String RELEASE = CompilerOptions.VERSION_17;

    /** Packages that exported to everyone by a module of the JDK: what an extension may use of it. */
    private static final Set<String> JDK_EXPORTED = jdkExportedPackages();

    /**
     * The most diagnostics one answer lists, and their size: a status travels in a header, which clients take up to
     * 8 KiB of, percent-encoded.
     */
    private static final int MAX_DIAGNOSTICS = 40;
    private static final int MAX_DIAGNOSTICS_CHARS = 2_000;
    private static final int MAX_DIAGNOSTIC_CHARS = 300;
    /** Deeply nested sources recurse deeply in a compiler: room for them, on the compile's own thread. */
    private static final long COMPILER_STACK = 16L << 20;

    /**
     * Part of the cache's key: raised whenever what a compiled jar holds changes for the same sources (how bundled
     * jars merge, the compiler's options, the checks).
     */
    static final int FORMAT = 1;

    private final ClassLoader hostLoader;
    private final List<String> sharedPackages;
    private final Duration deadline;
    private final String environment;
    /** Compiles at once: each takes a core, and a flood of them must not take the runtime's calls' cores. */
    private final Semaphore compiles = new Semaphore(Math.max(1, Runtime.getRuntime().availableProcessors() / 2));
    private final Map<String, String> hostDigests = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * What a compile made.
     *
     * @param classes         the class files, by entry name
     * @param compiledAgainst each host class it read (shared packages), by entry name, to its SHA-256 (hex)
     */
    public record Output(Map<String, byte[]> classes, Map<String, String> compiledAgainst) {
    }

    /**
     * @param hostLoader     where the shared packages' classes come from
     * @param sharedPackages package prefixes ending with a dot, as the extension loaders take them
     * @param deadline       the longest a compile may run
     */
    public SourceCompiler(ClassLoader hostLoader, List<String> sharedPackages, Duration deadline) {
        this.hostLoader = hostLoader;
        this.sharedPackages = List.copyOf(sharedPackages);
        this.deadline = deadline;
        this.environment = "format " + FORMAT + "; ecj " + ecjVersion() + "; release " + RELEASE + "; java "
                + Runtime.version() + "; shared " + this.sharedPackages;
    }

    /**
     * What a compile's output depends on besides the package's bytes and the host classes it reads: the compiler's
     * version, the release, the JDK's and the shared packages. Part of the compiled-package cache's key.
     */
    public String environment() {
        return environment;
    }

    public List<String> sharedPackages() {
        return sharedPackages;
    }

    /**
     * Whether the host classes a compile read are still those: compiled classes that call into a changed API
     * would fail as they run.
     *
     * @param compiledAgainst as {@link Output#compiledAgainst}, or null when unknown
     */
    public boolean unchangedSince(Map<String, String> compiledAgainst) {
        if (compiledAgainst == null) {
            return false;
        }
        for (Map.Entry<String, String> type : compiledAgainst.entrySet()) {
            if (!type.getValue().equals(hostDigest(type.getKey()))) {
                return false;
            }
        }
        return true;
    }

    /** A host class's digest; its bytes cannot change while this process runs, so each is read once. */
    private String hostDigest(String entry) {
        return hostDigests.computeIfAbsent(entry, name -> {
            byte[] bytes = read(hostLoader, name);
            return bytes == null ? "" : sha256(bytes);
        });
    }

    /**
     * Compiles the sources, or fails with INVALID_ARGUMENT listing the errors as {@code file:line:column: message},
     * DEADLINE_EXCEEDED, or RESOURCE_EXHAUSTED when the runtime is busy compiling others. The compile runs on a
     * thread of its own, so that its caller is answered at the deadline even when the compile is in a long step of
     * one unit; the compile itself stops at its next check of the deadline, and until then keeps its share of the
     * cores (a later one waits for it).
     *
     * @param sources  file name in the package to its text
     * @param bundled  class files the package bundles, by entry name ({@code com/acme/Lib.class})
     * @param name     how to call the package in messages
     */
    public Output compile(Map<String, String> sources, Map<String, byte[]> bundled, String name) {
        long stopAt = System.nanoTime() + deadline.toNanos();
        Deadline progress = new Deadline(stopAt);
        try {
            if (!compiles.tryAcquire(deadline.toNanos(), TimeUnit.NANOSECONDS)) {
                throw Problem.exhausted(name + " was not compiled: this runtime is busy compiling "
                        + "other packages; try again").toException();
            }
            CompletableFuture<Output> compiled = new CompletableFuture<>();
            Thread compiler = new Thread(null, () -> {
                try {
                    compiled.complete(compileWithin(sources, bundled, name, progress));
                } catch (Throwable e) {
                    compiled.completeExceptionally(e);
                } finally {
                    compiles.release();
                }
            }, "capmesh-compile", COMPILER_STACK);
            compiler.setDaemon(true);
            compiler.start();
            return compiled.get(Math.max(0, stopAt - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            progress.cancel();
            throw timedOut(name);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException problem) {
                throw problem;
            }
            throw new Problem(Status.Code.INTERNAL, name + " could not be compiled: " + e.getCause()).toException();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            progress.cancel();
            throw new Problem(Status.Code.CANCELLED, name + " was not compiled: the runtime is stopping")
                    .toException();
        }
    }

    private Problem.ProblemException timedOut(String name) {
        return new Problem(Status.Code.DEADLINE_EXCEEDED, name + " did not compile within " + describe(deadline)
                + " (capmesh.runtime.compile-timeout); nothing was deployed").toException();
    }

    private Output compileWithin(Map<String, String> sources, Map<String, byte[]> bundled, String name,
                                 Deadline progress) {
        Map<String, byte[]> classes = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        ICompilationUnit[] units = new TreeMap<>(sources).entrySet().stream()
                .map(source -> new CompilationUnit(source.getValue().toCharArray(), source.getKey(), "UTF-8"))
                .toArray(ICompilationUnit[]::new);
        VisibleTypes types = new VisibleTypes(bundled, progress);
        Compiler compiler = new Compiler(types, DefaultErrorHandlingPolicies.proceedWithAllProblems(), options(),
                result -> collect(result, classes, errors), new DefaultProblemFactory(Locale.ROOT), null, progress);
        try {
            compiler.compile(units);
        } catch (StackOverflowError e) {
            throw Problem.invalid(name + " is nested too deeply to compile; split its expressions or classes")
                    .toException();
        } catch (RuntimeException e) {
            if (!progress.isCanceled()) {
                throw new Problem(Status.Code.INTERNAL, name + " could not be compiled, through no fault of its"
                        + " sources: " + e).toException();
            }
        }
        if (progress.isCanceled()) {
            throw timedOut(name);
        }
        if (!errors.isEmpty()) {
            throw Problem.invalid(name + " does not compile (" + errors.size() + " error(s)):\n"
                    + listed(errors)).toException();
        }
        return new Output(classes, types.read());
    }

    /** The first diagnostics, as many as a status can carry. */
    private static String listed(List<String> errors) {
        StringBuilder listed = new StringBuilder();
        int shown = 0;
        for (String error : errors) {
            String line = error.length() > MAX_DIAGNOSTIC_CHARS ? error.substring(0, MAX_DIAGNOSTIC_CHARS) + "..."
                    : error;
            if (shown == MAX_DIAGNOSTICS || shown > 0 && listed.length() + line.length() > MAX_DIAGNOSTICS_CHARS) {
                break;
            }
            listed.append(shown++ == 0 ? "" : "\n").append(line);
        }
        return shown < errors.size() ? listed + "\n... and " + (errors.size() - shown) + " more" : listed.toString();
    }

    private static String describe(Duration duration) {
        return duration.toMillis() > 0 ? duration.toMillis() + " ms" : duration.toNanos() + " ns";
    }

    private static void collect(CompilationResult result, Map<String, byte[]> classes, List<String> errors) {
        for (CategorizedProblem problem : result.getProblems() == null ? new CategorizedProblem[0]
                : result.getProblems()) {
            if (problem.isError()) {
                int column = problem instanceof org.eclipse.jdt.internal.compiler.problem.DefaultProblem located
                        ? located.getSourceColumnNumber() : 0;
                errors.add(new String(problem.getOriginatingFileName()) + ":" + problem.getSourceLineNumber() + ":"
                        + column + ": " + problem.getMessage());
            }
        }
        if (!result.hasErrors()) {
            for (ClassFile file : result.getClassFiles()) {
                classes.put(new String(file.fileName()) + ".class", file.getBytes());
            }
        }
    }

    private static CompilerOptions options() {
        Map<String, String> settings = new HashMap<>();
        settings.put(CompilerOptions.OPTION_Source, RELEASE);
        settings.put(CompilerOptions.OPTION_Compliance, RELEASE);
        settings.put(CompilerOptions.OPTION_TargetPlatform, RELEASE);
        settings.put(CompilerOptions.OPTION_Encoding, "UTF-8");
        // stack traces with lines and local variable names, as javac -g gives
        settings.put(CompilerOptions.OPTION_LineNumberAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_SourceFileAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_LocalVariableAttribute, CompilerOptions.GENERATE);
        settings.put(CompilerOptions.OPTION_Process_Annotations, CompilerOptions.DISABLED);
        settings.put(CompilerOptions.OPTION_ReportDeprecation, CompilerOptions.IGNORE);
        return new CompilerOptions(settings);
    }

    /**
     * Cancels the compile once its deadline has passed: ECJ asks between its phases and units, and every type it
     * looks up checks too, so that one unit that takes long is stopped within it.
     */
    private static final class Deadline extends CompilationProgress {
        private final long stopAt;
        private volatile boolean canceled;

        Deadline(long stopAt) {
            this.stopAt = stopAt;
        }

        @Override
        public boolean isCanceled() {
            return canceled || (canceled = System.nanoTime() - stopAt > 0);
        }

        void check() {
            if (isCanceled()) {
                throw new Cancelled();
            }
        }

        void cancel() {
            canceled = true;
        }

        @Override
        public void begin(int remainingWork) {
        }

        @Override
        public void done() {
        }

        @Override
        public void setTaskName(String name) {
        }

        @Override
        public void worked(int workIncrement, int remainingWork) {
        }
    }

    /** Ends a compile from within a lookup once its deadline has passed. */
    private static final class Cancelled extends RuntimeException {
        Cancelled() {
            super("the compile's deadline passed", null, false, false);
        }
    }

    /**
     * The types a compile may resolve, looked up in the order the extension's loader will: the host's shared
     * packages, then the package's bundled classes, then the JDK's exported API.
     */
    private final class VisibleTypes implements INameEnvironment {
        private final Map<String, byte[]> bundled;
        private final Set<String> bundledPackages = new HashSet<>();
        private final Deadline deadline;
        /** The host classes read, by entry name, with their digests. */
        private final Map<String, String> read = new TreeMap<>();

        VisibleTypes(Map<String, byte[]> bundled, Deadline deadline) {
            this.bundled = bundled;
            this.deadline = deadline;
            bundled.keySet().forEach(entry -> {
                for (int slash = entry.lastIndexOf('/'); slash > 0; slash = entry.lastIndexOf('/', slash - 1)) {
                    bundledPackages.add(entry.substring(0, slash));
                }
            });
        }

        @Override
        public NameEnvironmentAnswer findType(char[][] compoundName) {
            StringBuilder path = new StringBuilder();
            for (char[] part : compoundName) {
                path.append(path.isEmpty() ? "" : "/").append(part);
            }
            return find(path.toString());
        }

        @Override
        public NameEnvironmentAnswer findType(char[] typeName, char[][] packageName) {
            StringBuilder path = new StringBuilder();
            for (char[] part : packageName) {
                path.append(part).append('/');
            }
            return find(path.append(typeName).toString());
        }

        synchronized Map<String, String> read() {
            return java.util.Collections.unmodifiableMap(new TreeMap<>(read));
        }

        private NameEnvironmentAnswer find(String path) {
            deadline.check();
            String entry = path + ".class";
            byte[] bytes;
            if (shared(path)) {
                bytes = SourceCompiler.read(hostLoader, entry);
                if (bytes != null) {
                    synchronized (this) {
                        read.put(entry, hostDigest(entry));
                    }
                }
            } else {
                bytes = bundled.get(entry);
                if (bytes == null && jdk(path)) {
                    bytes = SourceCompiler.read(ClassLoader.getPlatformClassLoader(), entry);
                }
            }
            if (bytes == null) {
                return null;
            }
            try {
                return new NameEnvironmentAnswer(new ClassFileReader(bytes, entry.toCharArray()), null);
            } catch (ClassFormatException e) {
                return null;
            }
        }

        private boolean shared(String path) {
            String dotted = path.replace('/', '.');
            return sharedPackages.stream().anyMatch(dotted::startsWith);
        }

        private boolean jdk(String path) {
            int slash = path.lastIndexOf('/');
            return slash > 0 && JDK_EXPORTED.contains(path.substring(0, slash).replace('/', '.'));
        }

        @Override
        public boolean isPackage(char[][] parentPackageName, char[] packageName) {
            deadline.check();
            if (Character.isUpperCase(packageName[0])) {
                return false; // a type's name by convention, which keeps the lookups below to the few that matter
            }
            StringBuilder path = new StringBuilder();
            for (char[] part : parentPackageName == null ? new char[0][] : parentPackageName) {
                path.append(part).append('/');
            }
            String name = path.append(packageName).toString();
            String dotted = name.replace('/', '.');
            return bundledPackages.contains(name) || JDK_EXPORTED.stream().anyMatch(p -> p.equals(dotted)
                    || p.startsWith(dotted + ".")) || sharedPackages.stream().anyMatch(shared ->
                    shared.startsWith(dotted + ".") || dotted.startsWith(shared)) && find(name) == null;
        }

        @Override
        public void cleanup() {
        }
    }

    private static byte[] read(ClassLoader loader, String entry) {
        try (InputStream in = loader.getResourceAsStream(entry)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(PackageReader.sha256().digest(bytes));
    }

    private static Set<String> jdkExportedPackages() {
        Set<String> packages = new HashSet<>();
        for (Module module : ModuleLayer.boot().modules()) {
            ModuleDescriptor descriptor = module.getDescriptor();
            descriptor.exports().stream().filter(export -> !export.isQualified())
                    .forEach(export -> packages.add(export.source()));
        }
        return Set.copyOf(packages);
    }

    private static String ecjVersion() {
        try {
            return ResourceBundle.getBundle("org.eclipse.jdt.internal.compiler.batch.messages", Locale.ROOT,
                    Compiler.class.getClassLoader()).getString("compiler.version");
        } catch (RuntimeException e) {
            return "unknown";
        }
    }
}
