package io.capmesh.cli;

import io.capmesh.telemetry.SpanRecord;
import io.capmesh.telemetry.TraceFiles;
import io.capmesh.telemetry.TraceTree;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "trace", sortOptions = false,
        header = "Show a finished trace of the local mesh as a tree.",
        description = {"Show a trace as a tree: each span under its parent with its service, its duration and the"
                + " capmesh attributes (capability, method, replica, extension version, account, lease).",
                "Every process of a mesh started with `capmesh up` (and `capmesh demo`) writes its spans under"
                + " --dir; without TRACE_ID the trace that started last is shown."})
final class TraceCommand implements Callable<Integer> {

    @Mixin
    private MeshDirectory directory;

    @Mixin
    private Output output;

    @Parameters(arity = "0..1", paramLabel = "TRACE_ID", description = "The 32-hex-digit trace id (default: the latest).")
    private String traceId;

    @Override
    public Integer call() {
        LocalMesh mesh = directory.mesh();
        TraceFiles files = new TraceFiles(mesh.spanDir());
        if (traceId != null && !traceId.matches("[0-9a-f]{32}")) {
            throw CliFailure.usage("a trace id is 32 lowercase hex digits, got \"" + traceId + "\"");
        }
        String id = traceId != null ? traceId : files.latestTrace(null).orElseThrow(() -> CliFailure.notFound(
                "no traces in " + mesh.spanDir() + ": start a mesh with `capmesh up` and call it (or run"
                        + " `capmesh demo`)"));
        List<SpanRecord> spans = files.trace(id);
        if (spans.isEmpty()) {
            throw CliFailure.notFound("no spans of trace " + id + " in " + mesh.spanDir()
                    + "; `capmesh trace` without an id shows the latest");
        }
        if (output.json()) {
            output.json(spans);
        } else {
            output.out().print(TraceTree.of(id, spans).render());
            output.out().flush();
        }
        return ExitCode.OK;
    }
}
