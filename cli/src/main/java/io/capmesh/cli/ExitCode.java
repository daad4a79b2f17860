package io.capmesh.cli;

import java.util.LinkedHashMap;
import java.util.Map;

/** What a {@code capmesh} command's exit status means; listed in every command's usage. */
public final class ExitCode {

    public static final int OK = 0;
    /** The broker or a runtime refused or failed the operation, or a service did not start. */
    public static final int FAILED = 1;
    /** The command line was wrong: an unknown option, a malformed value, a file that is not there. */
    public static final int USAGE = 2;
    /** Nothing answered at the broker's or runtime's address. */
    public static final int UNREACHABLE = 3;
    /** An unknown capability, method, extension or runtime. */
    public static final int NOT_FOUND = 4;
    /** The unload or swap was done, but an old version's classloader is still reachable (LEAKED). */
    public static final int LEAKED = 5;

    private ExitCode() {
    }

    /** For picocli's usage help: the code and what it means. */
    static Map<String, String> descriptions() {
        Map<String, String> codes = new LinkedHashMap<>();
        codes.put(" " + OK, "done");
        codes.put(" " + FAILED, "refused or failed (by the broker, a runtime, or a service that did not start)");
        codes.put(" " + USAGE, "bad usage: unknown option, malformed value, missing file");
        codes.put(" " + UNREACHABLE, "unreachable: nothing answered at the broker's or runtime's address");
        codes.put(" " + NOT_FOUND, "not found: unknown capability, method, extension or runtime");
        codes.put(" " + LEAKED, "done, but an unloaded version's classloader leaked (unload, swap: see its causes)");
        return codes;
    }
}
