package io.capmesh.bench;

import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.pkg.ExtensionPackage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.HdrHistogram.Histogram;

/**
 * Functions from source on a warm in-process runtime: a 50-line {@code TextFunction} with its manifest in its opening
 * comment, new sources each round. Measured from the package's bytes to the first answer: the first compile with
 * the load and the first call; an edit swapped in, to its first new answer (what {@code capmesh dev} does after a
 * save, without its file watch, which waits 150 ms for saves to settle, and the upload); and the same sources
 * deployed again, found compiled.
 */
final class SourceFunctions {

    private static final String CAPABILITY = "bench.words";

    private SourceFunctions() {
    }

    static String run(Mode mode, Report report, Targets targets) throws Exception {
        int rounds = Math.max(2, mode.lifecycleRuns().get(2));
        int warmup = 2; // the compiler's own classes load with the first compile in a JVM: not a warm runtime
        Histogram first = Lifecycle.histogram();
        Histogram compile = Lifecycle.histogram();
        Histogram edit = Lifecycle.histogram();
        Histogram cached = Lifecycle.histogram();
        long coldMicros = 0;
        try (InProcessRuntime runtime = new InProcessRuntime()) {
            ExtensionRuntime engine = runtime.host().runtime();
            for (int round = 0; round < warmup + rounds; round++) {
                byte[] original = sources(round, "a");
                byte[] edited = sources(round, "b");
                long start = System.nanoTime();
                ExtensionPackage pkg = read(engine, original);
                engine.deploy(pkg);
                answer(engine, round + "a");
                long firstNanos = System.nanoTime() - start;

                start = System.nanoTime();
                engine.swap(read(engine, edited));
                answer(engine, round + "b");
                long editNanos = System.nanoTime() - start;
                engine.unload("bench-words", "", Duration.ofSeconds(10));

                start = System.nanoTime();
                engine.deploy(read(engine, edited));
                answer(engine, round + "b");
                long cachedNanos = System.nanoTime() - start;
                engine.unload("bench-words", "", Duration.ofSeconds(10));
                if (round == 0) {
                    coldMicros = firstNanos / 1_000;
                }
                if (round >= warmup) {
                    first.recordValue(firstNanos);
                    compile.recordValue(Math.max(1, pkg.compileMicros() * 1_000));
                    edit.recordValue(editNanos);
                    cached.recordValue(cachedNanos);
                }
            }
        }
        Table table = new Table("Functions from source",
                "A 50-line TextFunction compiled in the runtime (ECJ), new sources each of " + rounds + " rounds after "
                        + warmup + " to warm the compiler, from the package's bytes to the first answer. Edit: new "
                        + "sources swapped in, to the first new answer (capmesh dev adds its 150 ms wait for saves to "
                        + "settle and the upload). Cached: the same sources deployed again, found compiled.",
                "what", "p50 ms", "p99 ms", "max ms");
        table.row("first compile + load + first call", ms(first, 50), ms(first, 99), ms(first, 100));
        table.row("of which the compile", ms(compile, 50), ms(compile, 99), ms(compile, 100));
        table.row("edit swapped in, to its first answer", ms(edit, 50), ms(edit, 99), ms(edit, 100));
        table.row("the same sources again, from the cache", ms(cached, 50), ms(cached, 99), ms(cached, 100));
        table.row("the JVM's first deploy from source (the compiler's classes loading)",
                Table.millis(coldMicros / 1_000.0), "-", "-");
        report.add(table);
        double firstP50 = first.getValueAtPercentile(50) / 1e6;
        double cachedP50 = cached.getValueAtPercentile(50) / 1e6;
        double editP50 = edit.getValueAtPercentile(50) / 1e6 + 150;
        targets.measured(Targets.Goal.SOURCE_FIRST, ms(first, 50) + " ms p50", firstP50 <= 300);
        targets.measured(Targets.Goal.SOURCE_CACHED, ms(cached, 50) + " ms p50", cachedP50 <= 5);
        targets.measured(Targets.Goal.SOURCE_EDIT, Table.millis(editP50) + " ms p50 (swap to answer, with the"
                + " 150 ms wait for saves to settle)", editP50 <= 1_000);
        return "first compile + load + call p50 " + ms(first, 50) + " ms (compile " + ms(compile, 50) + " ms); edit "
                + ms(edit, 50) + " ms; from the cache " + ms(cached, 50) + " ms";
    }

    private static ExtensionPackage read(ExtensionRuntime engine, byte[] sources) throws IOException {
        return engine.reader().read(new ByteArrayInputStream(sources), "Words.java", null);
    }

    private static void answer(ExtensionRuntime engine, String expected) {
        String answer = new String(engine.invoke(CAPABILITY, "count", "one two three".getBytes(StandardCharsets.UTF_8),
                Map.of()).payload(), StandardCharsets.UTF_8);
        if (!answer.startsWith(expected + ":")) {
            throw new IllegalStateException("expected the answer of version " + expected + ", got " + answer);
        }
    }

    private static String ms(Histogram nanos, double percentile) {
        return Table.millis(nanos.getValueAtPercentile(percentile) / 1e6);
    }

    /** A package of one 50-line source whose answers name the round and the edit. */
    static byte[] sources(int round, String edit) throws IOException {
        String source = """
                /* capmesh:extension.json
                {"id": "bench-words", "version": "1.0.%d-%s", "entryClass": "bench.words.Words",
                 "capabilities": [{"name": "bench.words", "version": "1.0.0", "methods": ["count", "longest"]}]}
                */
                package bench.words;

                import io.capmesh.extension.api.CapabilityException;
                import io.capmesh.extension.api.TextFunction;
                import java.util.ArrayList;
                import java.util.Comparator;
                import java.util.List;
                import java.util.Locale;

                /** Counts the words of a text, and finds the longest. */
                public class Words extends TextFunction {

                    private static final String VERSION = "%d%s";

                    @Override
                    protected String apply(String text) throws CapabilityException {
                        List<String> words = words(text);
                        if (words.isEmpty()) {
                            throw CapabilityException.invalidArgument("no words in the text");
                        }
                        return VERSION + ":" + words.size() + " " + longest(words);
                    }

                    private static List<String> words(String text) {
                        List<String> words = new ArrayList<>();
                        for (String word : text.toLowerCase(Locale.ROOT).split("[^\\\\p{L}\\\\p{N}]+")) {
                            if (!word.isEmpty()) {
                                words.add(word);
                            }
                        }
                        return words;
                    }

                    private static String longest(List<String> words) {
                        return words.stream().max(Comparator.comparingInt(String::length)
                                .thenComparing(Comparator.reverseOrder())).orElse("");
                    }

                    private static int vowels(String word) {
                        int count = 0;
                        for (char c : word.toCharArray()) {
                            count += "aeiou".indexOf(c) >= 0 ? 1 : 0;
                        }
                        return count;
                    }
                }
                """.formatted(round, edit, round, edit);
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        try (ZipOutputStream out = new ZipOutputStream(zip)) {
            out.putNextEntry(new ZipEntry("bench/words/Words.java"));
            out.write(source.getBytes(StandardCharsets.UTF_8));
            out.closeEntry();
        }
        return zip.toByteArray();
    }
}
