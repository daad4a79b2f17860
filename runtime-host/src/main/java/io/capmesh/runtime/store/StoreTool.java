package io.capmesh.runtime.store;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Lists or changes the store of a runtime that is not running, for an operator whose runtime cannot start with
 * what it holds: {@code list DATA_DIR}, {@code remove DATA_DIR ID}. Any runtime service jar runs it
 * ({@code capmesh store} does). Exit codes as the CLI's: 0 done, 1 failed, 2 bad usage, 4 not found.
 */
public final class StoreTool {

    private StoreTool() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        boolean list = args.length == 2 && args[0].equals("list");
        boolean remove = args.length == 3 && args[0].equals("remove");
        if (!list && !remove) {
            err.println("usage: list DATA_DIR | remove DATA_DIR ID (the data directory of a runtime that is stopped)");
            return 2;
        }
        Path dir = Path.of(args[1]);
        Path file = dir.resolve(SqliteExtensionStore.FILE);
        if (!Files.isRegularFile(file)) {
            err.println(dir + " holds no extension store (" + SqliteExtensionStore.FILE + "): is it a runtime's data"
                    + " directory (capmesh.runtime.data-dir)?");
            return 4;
        }
        try {
            CallJournal.checkNotInUse(dir.resolve(CallJournal.FILE));
        } catch (IOException e) {
            err.println(e.getMessage() + (remove ? "; while it runs, capmesh unload removes an extension" : ""));
            return 1;
        }
        try (SqliteExtensionStore store = new SqliteExtensionStore(file)) {
            List<ExtensionStore.StoredExtension> stored = store.all();
            if (list) {
                out.printf("%-32s %-16s %-24s %s%n", "extension", "version", "deployed", "quarantine");
                for (ExtensionStore.StoredExtension e : stored) {
                    out.printf("%-32s %-16s %-24s %s%n", e.manifest().id(), e.manifest().version(), e.deployedAt(),
                            e.quarantine() == null ? "-" : e.quarantine().reason());
                }
                return 0;
            }
            String id = args[2];
            var found = stored.stream().filter(e -> e.manifest().id().equals(id)).findFirst();
            if (found.isEmpty()) {
                err.println("no extension " + id + " in the store at " + dir + "; it holds: " + (stored.isEmpty()
                        ? "nothing" : String.join(", ", stored.stream().map(e -> e.manifest().id()).toList())));
                return 4;
            }
            store.remove(id);
            out.println("removed " + found.get().manifest().coordinates() + " from the store at " + dir
                    + ": the runtime will not restore it (a bundled version of it loads instead, if it has one)");
            return 0;
        } catch (RuntimeException e) {
            err.println("cannot read the store at " + dir + ": " + e.getMessage());
            return 1;
        }
    }
}
