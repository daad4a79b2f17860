package io.capmesh.cli;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "down",
        header = "Stop the local mesh.",
        description = "Stop the local mesh: the runtimes first (SIGTERM, so each deregisters from the"
        + " broker), then the broker; what is still running after --timeout is killed. Stores and logs stay in --dir"
        + " for the next `capmesh up`.")
final class DownCommand implements Callable<Integer> {

    @Mixin
    private MeshDirectory directory;

    @Mixin
    private Output output;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
            description = "How long each service may take to stop before it is killed (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Override
    public Integer call() {
        LocalMesh mesh = directory.mesh();
        List<LocalMesh.Stopped> stopped = mesh.stop(timeout, output::note);
        if (output.json()) {
            output.json(new Down(mesh.dir().toString(), stopped));
            return ExitCode.OK;
        }
        if (stopped.isEmpty()) {
            output.say("No mesh is up in " + mesh.dir() + ".");
            return ExitCode.OK;
        }
        Table table = Table.of("service", "pid", "outcome", "took");
        stopped.forEach(s -> table.row(s.service(), s.pid(), s.outcome(), Durations.brief(s.took())));
        output.table(table);
        if (stopped.stream().anyMatch(s -> s.outcome().equals("still running"))) {
            throw CliFailure.failed("some services could not be stopped; see the table above");
        }
        return ExitCode.OK;
    }

    record Down(String dir, List<LocalMesh.Stopped> stopped) {
    }
}
