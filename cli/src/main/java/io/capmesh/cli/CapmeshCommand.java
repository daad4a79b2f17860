package io.capmesh.cli;

import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code capmesh}: a local mesh up and down, and the broker's and runtimes' operations from a terminal or a script.
 * A new subcommand is one more class in {@code subcommands}; it gets the exit codes, error handling and
 * {@code --json} convention of the others by using {@link Output}, {@link BrokerTarget} and {@link CliFailure}.
 */
@Command(name = "capmesh", versionProvider = CapmeshCommand.Version.class,
        description = "Start a capmesh mesh on this machine and work with any broker and its runtimes.",
        subcommands = {
                UpCommand.class,
                DownCommand.class,
                CertsCommand.class,
                ListCommand.class,
                AcquireCommand.class,
                InvokeCommand.class,
                DeployCommand.class,
                DevCommand.class,
                SwapCommand.class,
                UnloadCommand.class,
                RuntimeCommand.class,
                QuarantineCommand.class,
                StoreCommand.class,
                SignCommand.class,
                KeygenCommand.class,
                TokenCommand.class,
                HealthCommand.class,
                WatchCommand.class,
                TraceCommand.class,
                DemoCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class CapmeshCommand implements Callable<Integer> {

    private final InputStream in;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    // only here: unload has a --version of its own
    @CommandLine.Option(names = {"-V", "--version"}, versionHelp = true, description = "Print the version and exit.")
    private boolean version;

    CapmeshCommand(InputStream in) {
        this.in = in;
    }

    public static void main(String[] args) {
        // gRPC and Netty log to java.util.logging; a command line shows its own messages instead
        Logger.getLogger("io.grpc").setLevel(Level.SEVERE);
        Logger.getLogger("io.capmesh.stub").setLevel(Level.SEVERE);
        System.exit(commandLine(System.in).execute(args));
    }

    /** The command line, reading stdin (for {@code invoke}) from {@code in}; out and err are settable on it. */
    public static CommandLine commandLine(InputStream in) {
        CommandLine commandLine = new CommandLine(new CapmeshCommand(in));
        commandLine.setExecutionExceptionHandler(CapmeshCommand::handle);
        applyConventions(commandLine);
        return commandLine;
    }

    /** What {@code invoke} reads when no payload is given. */
    InputStream stdin() {
        return in;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return ExitCode.USAGE;
    }

    /** Every command, those added later included, documents the exit codes and answers --help. */
    private static void applyConventions(CommandLine commandLine) {
        CommandLine.Model.CommandSpec command = commandLine.getCommandSpec();
        command.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(ExitCode.descriptions());
        if (command.findOption("--help") == null) {
            command.addOption(CommandLine.Model.OptionSpec.builder("-h", "--help").usageHelp(true)
                    .description("Show this help and exit.").build());
        }
        commandLine.getSubcommands().values().forEach(CapmeshCommand::applyConventions);
    }

    private static int handle(Exception e, CommandLine command, CommandLine.ParseResult parsed) {
        String name = command.getCommandSpec().qualifiedName();
        if (e instanceof CliFailure failure) {
            command.getErr().println(name + ": " + failure.getMessage());
            command.getErr().flush();
            return failure.exitCode();
        }
        if (e instanceof StatusRuntimeException status) {
            command.getErr().println(name + ": " + Remote.describe(status.getStatus()));
            command.getErr().flush();
            return ExitCode.FAILED;
        }
        command.getErr().println(name + ": unexpected failure, please report it: " + e);
        e.printStackTrace(command.getErr());
        command.getErr().flush();
        return ExitCode.FAILED;
    }

    /** The version the jar's manifest carries. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String version = CapmeshCommand.class.getPackage().getImplementationVersion();
            return new String[] {"capmesh " + (version == null ? "(development build)" : version)};
        }
    }
}
