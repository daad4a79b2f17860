package io.capmesh.cli;

import io.capmesh.proto.v1.DeployResponse;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.ChannelCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "deploy", sortOptions = false,
        header = "Deploy an extension jar to runtimes.",
        description = {"Deploy an extension jar: each runtime checks, loads,"
        + " starts, persists and publishes it before it answers, then tells the broker what it now offers.",
        "Without --runtime the jar goes to every runtime of the tier its first capability is named after (data for"
        + " data.sql), or to the core runtimes when there is no such tier."})
final class DeployCommand implements Callable<Integer> {

    @Mixin
    private BrokerTarget target;

    @Mixin
    private Output output;

    @Mixin
    private PackageArgument pkg;

    @Option(names = "--runtime", paramLabel = "TIER|HOST:PORT",
            description = "Where to deploy: every runtime of a tier (core, data, ml, crypto) or one runtime's address.")
    private String runtime;

    @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "60s", converter = Durations.class,
            description = "How long each runtime may take (default: ${DEFAULT-VALUE}).")
    private Duration timeout;

    @Override
    public Integer call() {
        ExtensionJar extension = pkg.read();
        BrokerAddress broker = target.broker();
        ChannelCredentials credentials = target.credentials();
        List<Runtimes.Target> targets = Runtimes.forDeploy(runtime, extension, broker, credentials);
        List<Map<String, Object>> json = new ArrayList<>();
        Map<String, String> offers = new LinkedHashMap<>();
        Table table = Table.of("runtime", "extension", "version", "capabilities", "load");
        for (Runtimes.Target runtime : targets) {
            DeployResponse deployed;
            try (Remote remote = Remote.runtime(runtime.address(), credentials)) {
                var stub = RuntimeServiceGrpc.newStub(remote.channel()).withDeadlineAfter(timeout.toMillis(),
                        TimeUnit.MILLISECONDS);
                deployed = Upload.deploy(stub, extension, timeout);
            } catch (StatusRuntimeException e) {
                throw refused("deploy", extension, runtime, e);
            }
            ExtensionInfo info = deployed.getExtension();
            info.getManifest().getCapabilitiesList().forEach(c -> offers.put(c.getName(), c.getVersion()));
            table.row(runtime.name(), info.getManifest().getId(), info.getManifest().getVersion(),
                    capabilities(info), Durations.brief(Duration.ofNanos(deployed.getLoadMicros() * 1000)));
            json.add(entry(runtime, Json.of(deployed)));
        }
        awaitBroker(output, broker, credentials, targets, offers);
        if (output.json()) {
            output.json(json);
        } else {
            output.table(table);
        }
        return ExitCode.OK;
    }

    /** So that the next command can acquire what was just deployed. */
    static void awaitBroker(Output output, BrokerAddress broker, ChannelCredentials credentials,
                            List<Runtimes.Target> targets, Map<String, String> offers) {
        Boolean listed = Runtimes.awaitListed(broker, credentials, targets, offers, Duration.ofSeconds(10));
        if (listed == null) {
            output.note("no broker answered at " + broker + ", so none lists " + String.join(", ", offers.keySet())
                    + " yet; call it directly with capmesh invoke CAP METHOD --runtime HOST:PORT");
        } else if (!listed) {
            output.note("the broker at " + broker + " does not list " + String.join(", ", offers.keySet())
                    + " from these runtimes yet; it will once they heartbeat");
        }
    }

    static String capabilities(ExtensionInfo info) {
        return info.getManifest().getCapabilitiesList().stream().map(c -> c.getName() + " " + c.getVersion())
                .collect(Collectors.joining(", "));
    }

    static Map<String, Object> entry(Runtimes.Target runtime, Object answer) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("runtime", runtime.name());
        entry.put("address", runtime.address().toString());
        entry.put("answer", answer);
        return entry;
    }

    /** A runtime's refusal, with its list of problems as it gave them, and what to do next. */
    static CliFailure refused(String operation, ExtensionJar jar, Runtimes.Target runtime, StatusRuntimeException e) {
        String what = operation + " of " + jar.path() + " to " + runtime.name() + " refused";
        CliFailure failure = Remote.failure("runtime", runtime.address(), e.getStatus(), what);
        if (failure.exitCode() == ExitCode.UNREACHABLE) {
            return failure;
        }
        String next = switch (e.getStatus().getCode()) {
            case ALREADY_EXISTS -> operation.equals("deploy")
                    ? "\n`capmesh swap` replaces a loaded extension with a new version"
                    : "\ngive the new build a new version in its extension.json";
            case FAILED_PRECONDITION, INVALID_ARGUMENT -> jar.path().toString().endsWith(".java")
                    && String.valueOf(e.getStatus().getDescription()).contains("is not a jar")
                    ? "\nto send Java sources, use --source " + jar.path() : "\nfix the package and try again";
            default -> "";
        };
        return e.getStatus().getCode() == Status.Code.NOT_FOUND ? failure
                : new CliFailure(failure.exitCode(), failure.getMessage() + next);
    }
}
