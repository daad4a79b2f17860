package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import shark.HeapAnalysis;
import shark.HeapAnalysisFailure;
import shark.HeapAnalysisSuccess;
import shark.HeapAnalyzer;
import shark.HeapField;
import shark.HeapObject;
import shark.IgnoredReferenceMatcher;
import shark.Leak;
import shark.LeakTrace;
import shark.LeakTraceObject;
import shark.LeakTraceReference;
import shark.LeakingObjectFinder;
import shark.MetadataExtractor;
import shark.ObjectInspector;
import shark.ObjectInspectors;
import shark.OnAnalysisProgressListener;
import shark.ReferenceMatcher;
import shark.ReferencePattern;

/**
 * The child JVM that finds, in a heap dump, the shortest strong reference path from a GC root to each of the given
 * extension classloaders (by serial), with Square's Shark. Arguments: the dump, then the serials. It prints one
 * block per loader it found a path to, read back by {@link #read}:
 * <pre>
 * path &lt;serial&gt; &lt;tab&gt; &lt;GC root&gt;
 * step &lt;tab&gt; &lt;object&gt; &lt;tab&gt; &lt;reference&gt;
 * end
 * </pre>
 */
public final class LeakPathAnalysis {

    private static final String LOADER = ExtensionClassLoader.class.getName();
    private static final String SERIAL_LABEL = "capmesh loader serial ";
    /** Instances of the loader's classes looked for, beside the loader and its classes: enough to find a path. */
    private static final int MAX_INSTANCES = 5_000;

    private LeakPathAnalysis() {
    }

    public static void main(String[] args) throws IOException {
        File dump = new File(args[0]);
        Set<Long> serials = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            serials.add(Long.parseLong(args[i]));
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        for (Map.Entry<Long, LeakPath> found : analyse(dump, serials).entrySet()) {
            out.println("path " + found.getKey() + "\t" + found.getValue().gcRoot());
            for (LeakPath.Step step : found.getValue().steps()) {
                out.println("step\t" + clean(step.object()) + "\t" + clean(step.reference()));
            }
            out.println("end");
        }
    }

    /** The paths the analysis printed, by serial. */
    static Map<Long, LeakPath> read(BufferedReader in) throws IOException {
        Map<Long, LeakPath> paths = new HashMap<>();
        long serial = 0;
        String root = null;
        List<LeakPath.Step> steps = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) {
            String[] parts = line.split("\t", -1);
            if (line.startsWith("path ") && parts.length == 2) {
                serial = Long.parseLong(parts[0].substring("path ".length()));
                root = parts[1];
                steps = new ArrayList<>();
            } else if (parts[0].equals("step") && parts.length == 3 && root != null) {
                steps.add(new LeakPath.Step(parts[1], parts[2]));
            } else if (line.equals("end") && root != null) {
                paths.put(serial, new LeakPath(root, steps));
                root = null;
            }
        }
        return paths;
    }

    /**
     * Shark follows fields, array slots and static fields, but not the edge from an object to its class nor from
     * a class to its loader, which is what holds a classloader. So the objects it looks for are the loader, its
     * classes and (up to a bound) instances of them; the shortest path to any of those, plus that last edge, is
     * the loader's path.
     */
    static Map<Long, LeakPath> analyse(File dump, Set<Long> serials) {
        Map<Long, Long> serialByClass = new HashMap<>(); // class object id -> serial of its extension loader, or 0
        LeakingObjectFinder finder = graph -> {
            Set<Long> ids = new HashSet<>();
            int instances = 0;
            for (var it = graph.getInstances().iterator(); it.hasNext(); ) {
                HeapObject.HeapInstance instance = it.next();
                Long serial = serialOf(instance, serialByClass);
                if (serial != null && serials.contains(serial) && (instance.instanceOf(LOADER)
                        || instances++ < MAX_INSTANCES)) {
                    ids.add(instance.getObjectId());
                }
            }
            for (var it = graph.getClasses().iterator(); it.hasNext(); ) {
                HeapObject.HeapClass type = it.next();
                Long serial = loaderSerial(type, serialByClass);
                if (serial != null && serials.contains(serial)) {
                    ids.add(type.getObjectId());
                }
            }
            return ids;
        };
        List<ObjectInspector> inspectors = new ArrayList<>(ObjectInspectors.Companion.getJdkDefaults());
        inspectors.add(reporter -> {
            HeapObject object = reporter.getHeapObject();
            Long serial = object instanceof HeapObject.HeapClass type ? loaderSerial(type, serialByClass)
                    : serialOf(object, serialByClass);
            if (serial != null) {
                reporter.getLabels().add(SERIAL_LABEL + serial);
            }
        });
        // only strong references hold: a soft, weak or phantom reference, or a pending finalizer, does not
        List<ReferenceMatcher> ignored = List.of(
                new IgnoredReferenceMatcher(new ReferencePattern.InstanceFieldPattern("java.lang.ref.Reference",
                        "referent")));
        HeapAnalysis analysis = new HeapAnalyzer(OnAnalysisProgressListener.Companion.getNO_OP()).analyze(dump,
                finder, ignored, false, inspectors, MetadataExtractor.Companion.getNO_OP(), null);
        if (analysis instanceof HeapAnalysisFailure failure) {
            throw new IllegalStateException("Shark could not analyse the dump", failure.getException());
        }
        Map<Long, LeakTrace> shortest = new HashMap<>();
        List<Leak> leaks = new ArrayList<>(((HeapAnalysisSuccess) analysis).getApplicationLeaks());
        leaks.addAll(((HeapAnalysisSuccess) analysis).getLibraryLeaks());
        for (Leak leak : leaks) {
            for (LeakTrace trace : leak.getLeakTraces()) {
                Long serial = labelledSerial(trace.getLeakingObject());
                if (serial != null) {
                    shortest.merge(serial, trace, (a, b) ->
                            b.getReferencePath().size() < a.getReferencePath().size() ? b : a);
                }
            }
        }
        Map<Long, LeakPath> paths = new HashMap<>();
        shortest.forEach((serial, trace) -> paths.put(serial, pathOf(trace)));
        return paths;
    }

    private static LeakPath pathOf(LeakTrace trace) {
        List<LeakPath.Step> steps = new ArrayList<>();
        for (LeakTraceReference reference : trace.getReferencePath()) {
            steps.add(new LeakPath.Step(object(reference.getOriginObject()), reference(reference)));
        }
        LeakTraceObject last = trace.getLeakingObject();
        if (!last.getClassName().equals(LOADER)) {
            steps.add(new LeakPath.Step(object(last), last.getType() == LeakTraceObject.ObjectType.CLASS
                    ? "its classloader" : "its class, and that class's classloader"));
        }
        return new LeakPath(trace.getGcRootType().getDescription(), steps);
    }

    /** {@code java.util.logging.Logger instance}, or {@code java.lang.Thread instance (thread 'leaky-poller')}. */
    private static String object(LeakTraceObject object) {
        String thread = object.getLabels().stream().filter(l -> l.startsWith("Thread name: "))
                .map(l -> "thread " + l.substring("Thread name: ".length())).findFirst().orElse(null);
        return object.getClassName() + " " + object.getTypeName() + (thread == null ? "" : " (" + thread + ")");
    }

    /** {@code static Thread.defaultUncaughtExceptionHandler}, {@code Logger.handlers}, {@code Object[][3]}. */
    private static String reference(LeakTraceReference reference) {
        String owner = reference.getOwningClassSimpleName();
        String name = reference.getReferenceDisplayName();
        return switch (reference.getReferenceType()) {
            case STATIC_FIELD -> "static " + owner + "." + name;
            case INSTANCE_FIELD -> owner + "." + name;
            case ARRAY_ENTRY -> owner + name;
            case LOCAL -> "a local variable on its stack (" + name + ")";
        };
    }

    /** The serial of the extension loader that the object is, or whose class the object is an instance of. */
    private static Long serialOf(HeapObject object, Map<Long, Long> serialByClass) {
        if (!(object instanceof HeapObject.HeapInstance instance)) {
            return null;
        }
        if (instance.instanceOf(LOADER)) {
            HeapField field = instance.get(LOADER, "serial");
            return field == null ? null : field.getValue().getAsLong();
        }
        return loaderSerial(instance.getInstanceClass(), serialByClass);
    }

    /** The serial of the extension loader that defined the class, or null for any other loader. */
    private static Long loaderSerial(HeapObject.HeapClass type, Map<Long, Long> serialByClass) {
        long serial = serialByClass.computeIfAbsent(type.getObjectId(), id -> {
            long loaderId = type.readRecord().getClassLoaderId();
            if (loaderId == 0) {
                return 0L;
            }
            HeapObject loader = type.getGraph().findObjectByIdOrNull(loaderId);
            Long found = loader instanceof HeapObject.HeapInstance instance && instance.instanceOf(LOADER)
                    ? serialOf(instance, serialByClass) : null;
            return found == null ? 0L : found;
        });
        return serial == 0 ? null : serial;
    }

    private static Long labelledSerial(LeakTraceObject object) {
        return object.getLabels().stream().filter(l -> l.startsWith(SERIAL_LABEL))
                .map(l -> Long.parseLong(l.substring(SERIAL_LABEL.length()))).findFirst().orElse(null);
    }

    private static String clean(String text) {
        return text.replace('\t', ' ').replace('\n', ' ');
    }
}
