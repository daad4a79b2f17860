package io.capmesh.broker.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;
import org.semver4j.Semver;

class VersionMatchTest {

    private static final List<String> OFFERED = List.of("0.9.0", "1.0.0", "1.2.0", "1.2.3", "1.2.9", "1.3.0-beta.1",
            "1.3.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "2.1.0", "3.0.0-alpha");

    @ParameterizedTest(name = "best(\"{0}\") = {1}")
    @CsvSource(delimiter = ';', textBlock = """
            ''                      ; 2.1.0
            '*'                     ; 2.1.0
            x                       ; 2.1.0
            X.x                     ; 2.1.0
            ^1.2                    ; 1.10.0
            ^1.2.3                  ; 1.10.0
            ^1                      ; 1.10.0
            ^0.9                    ; 0.9.0
            ^1.2.x                  ; 1.10.0
            ~1.2.3                  ; 1.2.9
            ~1.2                    ; 1.2.9
            ~1                      ; 1.10.0
            ~>1.2                   ; 1.2.9
            1.x                     ; 1.10.0
            1.2.x                   ; 1.2.9
            1.2.*                   ; 1.2.9
            1                       ; 1.10.0
            1.2                     ; 1.2.9
            1.2.3                   ; 1.2.3
            =1.2.3                  ; 1.2.3
            v1.2.3                  ; 1.2.3
            1.2.3+build.7           ; 1.2.3
            >=1.0.0 <2.0.0          ; 1.10.0
            '>= 1.0.0  < 1.3.0'     ; 1.2.9
            >1.2.3 <=1.3.0          ; 1.3.0
            <1.2                    ; 1.0.0
            <=1.2                   ; 1.2.9
            >=1.x                   ; 2.1.0
            >1.2                    ; 2.1.0
            ^1.2 <1.3.0             ; 1.2.9
            ~1.2 || ^2              ; 2.1.0
            1.2.3 || 0.9.x          ; 1.2.3
            1.2.3 - 1.3             ; 1.3.0
            1.0.0 - 1.2.3           ; 1.2.3
            1.2 - 2                 ; 2.1.0
            1.x - 1.2               ; 1.2.9
            1.2.3 ||                ; 2.1.0
            >2                      ; none
            ^3                      ; none
            ^4                      ; none
            >=1.2.3 <1.2.3          ; none
            ^3.0.0-alpha            ; 3.0.0-alpha
            >=3.0.0-0               ; 3.0.0-alpha
            2.0.0-rc.1              ; 2.0.0-rc.1
            ~2.0.0-rc.0             ; 2.0.0
            >=2.0.0-rc.0 <2.0.0     ; 2.0.0-rc.1
            >=1.3.0-alpha <1.3.0    ; 1.3.0-beta.1
            >=1.2.0-alpha <2.0.0    ; 1.10.0
            ^1.3.0-beta.2           ; 1.10.0
            >=1.3.0-beta.2 <1.3.0   ; none
            """)
    void picksTheHighestSatisfyingVersion(String range, String expected) {
        assertThat(VersionMatch.best(range, OFFERED)).isEqualTo(
                expected.equals("none") ? Optional.empty() : Optional.of(expected));
        assertThat(VersionMatch.rangeProblem(range)).isEmpty();
    }

    @Test
    void nullRangeMeansAny() {
        assertThat(VersionMatch.rangeProblem(null)).isEmpty();
        assertThat(VersionMatch.best(null, OFFERED)).contains("2.1.0");
    }

    @Test
    void preReleasesNeedARangeThatNamesOneOfTheSameVersion() {
        List<String> preOnly = List.of("1.3.0-beta.1", "2.0.0-rc.1");
        assertThat(VersionMatch.best("*", preOnly)).isEmpty();
        assertThat(VersionMatch.best("^1.2.0", preOnly)).isEmpty();
        assertThat(VersionMatch.best("^1.3.0-beta.0", preOnly)).contains("1.3.0-beta.1");
        assertThat(VersionMatch.best(">=1.3.0-beta.0", preOnly)).contains("1.3.0-beta.1");
        assertThat(VersionMatch.best("^1.2.0 || >=2.0.0-rc.0", preOnly)).contains("2.0.0-rc.1");
    }

    @Test
    void skipsOfferedStringsThatAreNotVersions() {
        assertThat(VersionMatch.best("*", List.of("garbage", "v9.0.0", "1.0.0", "2.0", ""))).contains("1.0.0");
        assertThat(VersionMatch.best("*", List.of())).isEmpty();
    }

    @Test
    void equalPrecedenceIsBrokenByTextSoTheAnswerIsStable() {
        assertThat(VersionMatch.best("1.2.3", List.of("1.2.3+b", "1.2.3+a"))).contains("1.2.3+b");
        assertThat(VersionMatch.best("1.2.3", List.of("1.2.3+a", "1.2.3+b"))).contains("1.2.3+b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"^1.x.y", "1.2.3.4", ">=", "^", "abc", "1.2.3 -", "- 1.2.3", ">=1.0.0 ||| 2",
        "[1.0,2.0)", "1.02", "01.2.3", "1.2.3-", "1.2.3-01", "~1.2.3-", "1.2-beta", ">=1.0.0, <2.0.0", "<*", ">x",
        "9999999999.0.0", "^1.2 && <2", "latest", "1.2.3 - 2.3.4 - 3", ">=1.2.3 - 2"})
    void explainsWhatIsWrongWithARange(String range) {
        assertThat(VersionMatch.rangeProblem(range)).hasValueSatisfying(
                problem -> assertThat(problem).startsWith("'" + range + "' is not a semver range: "));
        assertThatThrownBy(() -> VersionMatch.best(range, OFFERED)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(VersionMatch.rangeProblem(range).orElseThrow());
    }

    @Test
    void problemsSayWhatToWrite() {
        assertThat(VersionMatch.rangeProblem("^1.x.y")).contains("'^1.x.y' is not a semver range: '^1.x.y' is not a"
                + " version (1.2.3), a partial one (1.2, 1.x, *) or one of those after ^, ~, >, >=, <, <= or =;"
                + " combine them with spaces (and) or || (or)");
        assertThat(VersionMatch.rangeProblem(">=1.0.0 <2.x.0-beta"))
                .contains("'>=1.0.0 <2.x.0-beta' is not a semver range: '<2.x.0-beta' is not a version (1.2.3),"
                        + " a partial one (1.2, 1.x, *) or one of those after ^, ~, >, >=, <, <= or =;"
                        + " combine them with spaces (and) or || (or)");
        assertThat(VersionMatch.rangeProblem("<*")).contains("'<*' is not a semver range: '<*' matches no version");
        assertThat(VersionMatch.rangeProblem("^10000000000"))
                .contains("'^10000000000' is not a semver range: '10000000000' is too large a version number");
    }

    @ParameterizedTest
    @ValueSource(strings = {"1.2.3", "0.0.0", "10.20.30", "1.2.3-rc.1", "1.2.3-rc.1+build.5", "1.0.0-0.3.7",
        "1.0.0-x.7.z.92", "1.0.0+20130313144700", "1.0.0-alpha-a.b-c", "2147483647.0.0"})
    void acceptsSemverVersions(String text) {
        assertThat(VersionMatch.isVersion(text)).isTrue();
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"1.2", "1", "v1.2.3", "=1.2.3", "01.2.3", "1.02.3", "1.2.3-01", " 1.2.3", "1.2.3 ",
        "1.2.3.4", "1.2.x", "1.2.3-", "1.2.3+", "1.2.3-beta..1", "a.b.c", "^1.2.3", "1.2.3-b\u00e9ta"})
    void rejectsWhatIsNotASemverVersion(String text) {
        assertThat(VersionMatch.isVersion(text)).isFalse();
    }

    /** The ordering example of semver 2.0, rule 11, plus identifiers that mix letters and digits. */
    @Test
    void ordersBySemverPrecedence() {
        List<String> ordered = List.of("1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-99999999999999999999", "1.0.0--x",
                "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-alpha10", "1.0.0-alpha9", "1.0.0-beta",
                "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "1.10.0", "2.0.0");
        List<String> shuffled = new ArrayList<>(ordered);
        Collections.shuffle(shuffled, new Random(7));
        shuffled.sort((a, b) -> VersionMatch.PRECEDENCE.compare(new Semver(a), new Semver(b)));
        assertThat(shuffled).containsExactlyElementsOf(ordered);

        List<String> newestFirst = new ArrayList<>(ordered);
        Collections.reverse(newestFirst);
        assertThat(VersionMatch.newestFirst(shuffled)).containsExactlyElementsOf(newestFirst);
        assertThat(VersionMatch.best(">=1.0.0-0 <1.0.0", ordered)).contains("1.0.0-rc.1");
        assertThat(VersionMatch.best(">=1.0.0-alpha <1.0.0-beta", ordered)).contains("1.0.0-alpha9");
    }

    @Test
    void buildMetadataDoesNotChangePrecedence() {
        assertThat(VersionMatch.PRECEDENCE.compare(new Semver("1.0.0+a"), new Semver("1.0.0+b"))).isZero();
        assertThat(VersionMatch.PRECEDENCE.compare(new Semver("1.0.0-rc.1+z"), new Semver("1.0.0"))).isNegative();
    }

    @Test
    void newestFirstKeepsStringsThatAreNotVersionsLast() {
        assertThat(VersionMatch.newestFirst(Arrays.asList("1.0.0", "dev", "2.0.0+b", "2.0.0+a", "1.10.0", "beta")))
                .containsExactly("2.0.0+b", "2.0.0+a", "1.10.0", "1.0.0", "dev", "beta");
        assertThat(VersionMatch.newestFirst(List.of())).isEmpty();
    }
}
