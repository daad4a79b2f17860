package io.capmesh.broker.routing;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.semver4j.Range;
import org.semver4j.Range.RangeOperator;
import org.semver4j.RangesListFactory;
import org.semver4j.Semver;

/**
 * Semver 2.0 versions and npm-style ranges ("^1.2", "~1.2.3", ">=1.0.0 <2.0.0", "1.x", "1.2.3 - 2", "a || b",
 * "*" and "" for any).
 *
 * <p>semver4j parses versions and turns each caret, tilde and x-range into plain comparators. Around it, this
 * class checks the grammar first, because semver4j silently drops what it does not understand (so "^1.x.y"
 * would match nothing and "^1.2 <1.5.0" would lose the caret); feeds it one comparator at a time for the same
 * reason; and orders versions by semver 2.0 precedence, which semver4j departs from for pre-release identifiers
 * that mix letters and digits ("alpha10" sorts before "alpha9" in the spec and in npm, after it in semver4j).
 */
public final class VersionMatch {

    private static final String NUMBER = "(?:0|[1-9][0-9]*)";
    private static final String X_PART = "(?:" + NUMBER + "|[xX*])";
    private static final String IDENTIFIER = "(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
    private static final String PRE_RELEASE = "(?:-" + IDENTIFIER + "(?:\\." + IDENTIFIER + ")*)";
    private static final String BUILD = "(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)";
    private static final String PARTIAL = "v?(?:" + NUMBER + "\\." + NUMBER + "\\." + NUMBER + PRE_RELEASE + "?"
            + BUILD + "?|" + X_PART + "(?:\\." + X_PART + "(?:\\." + X_PART + ")?)?)";
    private static final Pattern COMPARATOR = Pattern.compile("(<=|>=|<|>|=|~>?|\\^)?(" + PARTIAL + ")");
    private static final Pattern HYPHEN = Pattern.compile("(" + PARTIAL + ")\\s+-\\s+(" + PARTIAL + ")");
    private static final Pattern SPACE_AFTER_OPERATOR = Pattern.compile("(<=|>=|<|>|=|~>?|\\^)\\s+");
    private static final Pattern WILDCARD = Pattern.compile("v?[xX*](?:\\.[0-9xX*]+)*");
    /** Larger numbers overflow semver4j's int arithmetic when it computes the next major or minor. */
    private static final int MAX_NUMBER_DIGITS = 9;

    private static final Bound ANY = new Bound(RangeOperator.GTE, Semver.ZERO);

    /** Semver 2.0 precedence (build metadata ignored). */
    static final Comparator<Semver> PRECEDENCE = Comparator.comparingInt(Semver::getMajor)
            .thenComparingInt(Semver::getMinor)
            .thenComparingInt(Semver::getPatch)
            .thenComparing(Semver::getPreRelease, VersionMatch::comparePreRelease);

    private VersionMatch() {
    }

    /** Empty when {@code range} is a valid range (null and "" mean any version), else what is wrong with it. */
    public static Optional<String> rangeProblem(String range) {
        try {
            parse(range);
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(e.getMessage());
        }
    }

    /**
     * The highest of {@code versions} that satisfies {@code range}. Following npm, a pre-release only satisfies a
     * range that names a pre-release of the same major.minor.patch, so "^1.2.0" never picks "1.3.0-beta".
     * Strings that are not semver versions are skipped.
     *
     * @throws IllegalArgumentException if the range is not valid (see {@link #rangeProblem(String)})
     */
    public static Optional<String> best(String range, Collection<String> versions) {
        List<List<Bound>> alternatives = parse(range);
        String best = null;
        Semver bestVersion = null;
        for (String candidate : versions) {
            if (!isVersion(candidate)) {
                continue;
            }
            Semver version = new Semver(candidate);
            if (!satisfies(alternatives, version)) {
                continue;
            }
            // Equal precedence differs only in build metadata: the text decides, so the answer is stable.
            int order = bestVersion == null ? 1 : PRECEDENCE.compare(version, bestVersion);
            if (order > 0 || order == 0 && candidate.compareTo(best) > 0) {
                best = candidate;
                bestVersion = version;
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * The versions by semver precedence, newest first (equal precedence, i.e. differing in build metadata only,
     * by text). Strings that are not versions come last, in the order given, so a listing loses nothing.
     */
    public static List<String> newestFirst(Collection<String> versions) {
        List<String> valid = new ArrayList<>();
        List<String> others = new ArrayList<>();
        for (String v : versions) {
            (isVersion(v) ? valid : others).add(v);
        }
        valid.sort(Comparator.comparing(Semver::new, PRECEDENCE).thenComparing(Comparator.naturalOrder()).reversed());
        valid.addAll(others);
        return valid;
    }

    /** Whether {@code text} is a semver 2.0 version, exactly ("1.2.3-rc.1+build.5"; not "v1.2.3" nor "1.2"). */
    public static boolean isVersion(String text) {
        return text != null && !text.isEmpty() && Character.isDigit(text.charAt(0))
                && text.equals(text.strip()) && Semver.isValid(text);
    }

    /** A comparator after desugaring: the version satisfies it when it compares to {@code version} as {@code op}. */
    private record Bound(RangeOperator op, Semver version) {

        boolean test(Semver candidate) {
            int c = PRECEDENCE.compare(candidate, version);
            return switch (op) {
                case EQ -> c == 0;
                case LT -> c < 0;
                case LTE -> c <= 0;
                case GT -> c > 0;
                case GTE -> c >= 0;
            };
        }

        static Bound of(Range range) {
            for (RangeOperator op : RangeOperator.values()) {
                if (new Range(range.getRangeVersion(), op).equals(range)) {
                    return new Bound(op, range.getRangeVersion());
                }
            }
            throw new IllegalStateException("unknown operator in " + range);
        }
    }

    /** The range as alternatives ("||") of comparator sets that must all hold. */
    private static List<List<Bound>> parse(String range) {
        String text = range == null ? "" : range.strip();
        List<List<Bound>> alternatives = new ArrayList<>();
        for (String section : text.split("\\|\\|", -1)) {
            section = SPACE_AFTER_OPERATOR.matcher(section.strip()).replaceAll("$1");
            List<Bound> bounds = new ArrayList<>();
            Matcher hyphen = HYPHEN.matcher(section);
            if (section.isEmpty()) {
                bounds.add(ANY);
            } else if (hyphen.matches()) {
                // "A - B" is ">=A <=B" for partial versions too: "1.2 - 2.3" is ">=1.2.0 <2.4.0".
                bounds.addAll(comparator(range, ">=" + hyphen.group(1)));
                bounds.addAll(comparator(range, "<=" + hyphen.group(2)));
            } else {
                for (String token : section.split("\\s+")) {
                    bounds.addAll(comparator(range, token));
                }
            }
            alternatives.add(bounds);
        }
        return alternatives;
    }

    private static List<Bound> comparator(String range, String token) {
        Matcher m = COMPARATOR.matcher(token);
        if (!m.matches()) {
            throw problem(range, "'" + token + "' is not a version (1.2.3), a partial one (1.2, 1.x, *) "
                    + "or one of those after ^, ~, >, >=, <, <= or =; combine them with spaces (and) or || (or)");
        }
        String op = m.group(1) == null ? "" : m.group(1);
        String partial = m.group(2);
        if (WILDCARD.matcher(partial).matches()) {
            if (op.equals("<") || op.equals(">")) {
                throw problem(range, "'" + token + "' matches no version");
            }
            return List.of(ANY);
        }
        for (String number : partial.replaceFirst("^v", "").split("[-+]", 2)[0].split("\\.")) {
            if (number.length() > MAX_NUMBER_DIGITS) {
                throw problem(range, "'" + number + "' is too large a version number");
            }
        }
        List<List<Range>> desugared;
        try {
            desugared = RangesListFactory.create(token).get();
        } catch (RuntimeException e) {
            throw problem(range, "'" + token + "': " + e.getMessage());
        }
        if (desugared.size() != 1 || desugared.get(0).isEmpty()) {
            throw problem(range, "'" + token + "' could not be read");
        }
        return desugared.get(0).stream().map(Bound::of).toList();
    }

    private static IllegalArgumentException problem(String range, String detail) {
        return new IllegalArgumentException("'" + range + "' is not a semver range: " + detail);
    }

    private static boolean satisfies(List<List<Bound>> alternatives, Semver version) {
        for (List<Bound> bounds : alternatives) {
            if (bounds.stream().allMatch(b -> b.test(version)) && preReleaseAllowed(bounds, version)) {
                return true;
            }
        }
        return false;
    }

    /** npm's rule: a pre-release needs a comparator naming a pre-release of the same major.minor.patch. */
    private static boolean preReleaseAllowed(List<Bound> bounds, Semver version) {
        if (version.getPreRelease().isEmpty()) {
            return true;
        }
        for (Bound b : bounds) {
            Semver v = b.version();
            if (!v.getPreRelease().isEmpty() && v.getMajor() == version.getMajor()
                    && v.getMinor() == version.getMinor() && v.getPatch() == version.getPatch()) {
                return true;
            }
        }
        return false;
    }

    /** Semver 2.0 rule 11: a release ranks above its pre-releases; identifiers compare numerically or in ASCII. */
    private static int comparePreRelease(List<String> a, List<String> b) {
        if (a.isEmpty() || b.isEmpty()) {
            return Boolean.compare(a.isEmpty(), b.isEmpty());
        }
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            int c = compareIdentifier(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static int compareIdentifier(String a, String b) {
        boolean numericA = a.chars().allMatch(ch -> ch >= '0' && ch <= '9');
        boolean numericB = b.chars().allMatch(ch -> ch >= '0' && ch <= '9');
        if (numericA && numericB) {
            // No leading zeros in a valid version, so the longer number is the larger, whatever its size.
            return a.length() != b.length() ? Integer.compare(a.length(), b.length()) : a.compareTo(b);
        }
        if (numericA != numericB) {
            return numericA ? -1 : 1;
        }
        return a.compareTo(b);
    }
}
