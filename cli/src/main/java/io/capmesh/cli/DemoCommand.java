package io.capmesh.cli;

import io.capmesh.sample.ScoreAndSign;
import io.capmesh.stub.CapabilityCallException;
import io.capmesh.stub.CapabilityClient;
import io.capmesh.telemetry.TraceFiles;
import io.capmesh.telemetry.TraceTree;
import io.capmesh.telemetry.Tracing;
import io.capmesh.telemetry.TracingSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "demo", sortOptions = false,
        header = "Start the local mesh if needed, run the score-and-sign sample and show its trace.",
        description = {"Runs the sample thin-stub function against the local mesh (started first when it is not"
                + " up): it reads flower measurements with data.sql, classifies them with ml.onnx and signs the"
                + " verdicts with crypto.sign, in one composition under one deadline. Prints the result and the trace of the run:"
                + " the function, the broker and the three runtimes, hop by hop.",
                "The mesh keeps running afterwards: `capmesh trace` shows the run again, `capmesh down` stops it."})
final class DemoCommand implements Callable<Integer> {

    @Mixin
    private MeshDirectory directory;

    @Mixin
    private Output output;

    @Option(names = "--base-port", paramLabel = "PORT", defaultValue = "9090",
            description = "The broker's gRPC port when the mesh has to be started (default: ${DEFAULT-VALUE}).")
    private int basePort;

    @Option(names = "--jars", paramLabel = "DIR",
            description = "Where the service jars are, when the mesh has to be started (default: each module's"
                    + " target/ in the capmesh checkout).")
    private Path jars;

    @Option(names = "--account", defaultValue = "demo", description = "Whose lease (default: ${DEFAULT-VALUE}).")
    private String account;

    @Option(names = "--deadline", paramLabel = "DURATION", defaultValue = "10s", converter = Durations.class,
            description = "The composition's deadline (default: ${DEFAULT-VALUE}).")
    private Duration deadline;

    @Override
    public Integer call() {
        LocalMesh mesh = directory.mesh();
        LocalMesh.Options options = LocalMesh.Options.at(basePort);
        if (jars != null) {
            options = options.withJars(jars);
        }
        LocalMesh.Started started = mesh.start(options, output::note);
        if (!started.alreadyUp()) {
            output.say("Started a local mesh (`capmesh down` stops it):");
            UpCommand.print(output, started.state());
            output.say("");
        }
        TracingSettings settings = new TracingSettings(ScoreAndSign.SPAN, "", mesh.spanDir(), Duration.ofMillis(100));
        ScoreAndSign.Result result;
        try (Tracing tracing = Tracing.start(settings);
             CapabilityClient client = CapabilityClient.builder().broker(started.state().broker().target())
                     .credentials(started.state().credentials()).account(account).openTelemetry(tracing.openTelemetry()).build()) {
            result = ScoreAndSign.once(client, tracing.tracer(), deadline);
        } catch (CapabilityCallException e) {
            throw Remote.failure(e, started.state().broker());
        }
        TraceTree trace = new TraceFiles(mesh.spanDir()).await(result.traceId(), ScoreAndSign.TRACED_SERVICES,
                Duration.ofSeconds(10));
        if (output.json()) {
            output.json(new Demo(result.traceId(), result.scores(), result.keyId(),
                    new String(result.signed(), java.nio.charset.StandardCharsets.UTF_8),
                    java.util.Base64.getEncoder().encodeToString(result.signature()), result.took().toMillis(),
                    trace.size()));
            return ExitCode.OK;
        }
        output.say("score-and-sign: data.sql -> ml.onnx -> crypto.sign");
        output.out().print(ScoreAndSign.describe(result));
        output.say("");
        output.out().print(trace.render());
        output.say("");
        output.say("`capmesh trace " + result.traceId() + "` shows it again; `capmesh down` stops the mesh.");
        return ExitCode.OK;
    }

    record Demo(String traceId, java.util.List<ScoreAndSign.Score> scores, String keyId, String signed,
                String signature, long tookMillis, int spans) {
    }
}
