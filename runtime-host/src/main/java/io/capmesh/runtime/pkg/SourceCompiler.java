package io.capmesh.runtime.pkg;

import io.capmesh.extension.api.Extension;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ResourceBundle;
import java.util.Set;
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

    private final ClassLoader hostLoader;
    private final List<String> sharedPackages;
    private final Duration deadline;
    private final String environment;

    /**
     * @param hostLoader     where the shared packages' classes come from
     * @param sharedPackages package prefixes ending with a dot, as the extension loaders take them
     * @param deadline       the longest a compile may run
     */
    public SourceCompiler(ClassLoader hostLoader, List<String> sharedPackages, Duration deadline) {
        this.hostLoader = hostLoader;
        this.sharedPackages = List.copyOf(sharedPackages);
        this.deadline = deadline;
        this.environment = "ecj " + ecjVersion() + "; release " + RELEASE + "; extension-api "
                + Extension.class.getPackage().getImplementationVersion() + "; shared " + this.sharedPackages;
    }

    /**
     * What a compile's output depends on besides the package's bytes: the compiler's version, the release, the
     * extension API's version and the shared packages. Part of the compiled-package cache's key.
     */
    public String environment() {
        return environment;
    }

    public List<String> sharedPackages() {
        return sharedPackages;
    }

    /**
     * Compiles the sources, or fails with INVALID_ARGUMENT listing every error as {@code file:line:column: message},
     * or with DEADLINE_EXCEEDED.
     *
     * @param sources  file name in the package to its text
     * @param bundled  class files the package bundles, by entry name ({@code com/acme/Lib.class})
     * @param name     how to call the package in messages
     * @return the compiled class files, by entry name
     */
    public Map<String, byte[]> compile(Map<String, String> sources, Map<String, byte[]> bundled, String name) {
        long stopAt = System.nanoTime() + deadline.toNanos();
        CompilationProgress progress = new Deadline(stopAt);
        Map<String, byte[]> classes = new LinkedHashMap<>();
        List<String> errors = new ArrayList<>();
        ICompilationUnit[] units = sources.entrySet().stream()
                .map(source -> new CompilationUnit(source.getValue().toCharArray(), source.getKey(), "UTF-8"))
                .toArray(ICompilationUnit[]::new);
        Compiler compiler = new Compiler(new VisibleTypes(bundled), DefaultErrorHandlingPolicies.proceedWithAllProblems(),
                options(), result -> collect(result, classes, errors), new DefaultProblemFactory(Locale.ROOT), null,
                progress);
        try {
            compiler.compile(units);
        } catch (RuntimeException e) {
            if (!progress.isCanceled()) {
                throw Problem.invalid(name + " could not be compiled: " + e).toException();
            }
        }
        if (progress.isCanceled()) {
            throw new Problem(Status.Code.DEADLINE_EXCEEDED, name + " did not compile within " + deadline
                    .toMillis() + " ms (capmesh.runtime.compile-timeout); nothing was deployed").toException();
        }
        if (!errors.isEmpty()) {
            throw Problem.invalid(name + " does not compile (" + errors.size() + " error(s)):\n"
                    + String.join("\n", errors)).toException();
        }
        return classes;
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

    /** Cancels the compile once its deadline has passed; ECJ asks between its phases and units. */
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

    /** The types a compile may resolve: bundled classes, the host's shared packages, the JDK's exported API. */
    private final class VisibleTypes implements INameEnvironment {
        private final Map<String, byte[]> bundled;
        private final Set<String> bundledPackages = new HashSet<>();

        VisibleTypes(Map<String, byte[]> bundled) {
            this.bundled = bundled;
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

        private NameEnvironmentAnswer find(String path) {
            String entry = path + ".class";
            byte[] bytes = bundled.get(entry);
            if (bytes == null) {
                bytes = read(visible(path), entry);
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

        /** The loader the extension would get this type from, or null if it would not see it. */
        private ClassLoader visible(String path) {
            String dotted = path.replace('/', '.');
            if (sharedPackages.stream().anyMatch(dotted::startsWith)) {
                return hostLoader;
            }
            int slash = path.lastIndexOf('/');
            return slash > 0 && JDK_EXPORTED.contains(dotted.substring(0, slash))
                    ? ClassLoader.getPlatformClassLoader() : null;
        }

        private static byte[] read(ClassLoader loader, String entry) {
            if (loader == null) {
                return null;
            }
            try (InputStream in = loader.getResourceAsStream(entry)) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public boolean isPackage(char[][] parentPackageName, char[] packageName) {
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
