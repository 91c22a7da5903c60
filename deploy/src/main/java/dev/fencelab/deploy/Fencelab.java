package dev.fencelab.deploy;

import dev.fencelab.deploy.cli.BenchCommand;
import dev.fencelab.deploy.cli.ChaosCommand;
import dev.fencelab.deploy.cli.CheckCommand;
import dev.fencelab.deploy.cli.CertsCommand;
import dev.fencelab.deploy.cli.CompareCommand;
import dev.fencelab.deploy.cli.ReportCommand;
import dev.fencelab.deploy.cli.ClusterCommand;
import dev.fencelab.deploy.cli.DemoCommand;
import dev.fencelab.deploy.cli.NodeCommand;
import dev.fencelab.deploy.cli.RunCommand;
import dev.fencelab.deploy.cli.ScenariosCommand;
import dev.fencelab.deploy.member.Member;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** The {@code fencelab} executable. Exit codes: 0 success, 1 runtime failure, 2 bad input or usage. */
@Command(
    name = "fencelab",
    mixinStandardHelpOptions = true,
    versionProvider = Fencelab.Version.class,
    description = {
      "Emulates how GPUs, RDMA NICs and other DMA devices share memory and synchronise under Linux",
      "(dma_fence, dma_resv, sync_file, dma-buf, ...) on a cluster of JVMs.",
      ""
    },
    subcommands = {DemoCommand.class, RunCommand.class, ChaosCommand.class, CheckCommand.class, ScenariosCommand.class, ClusterCommand.class, NodeCommand.class, BenchCommand.class,
        ReportCommand.class, CompareCommand.class, CertsCommand.class, CommandLine.HelpCommand.class},
    footer = {"", "Exit codes: 0 success, 1 failure at run time, 2 bad input or usage."})
public final class Fencelab implements Runnable {
  /** Returned by a command whose JVM must keep running after {@code main} returns (a cluster member). */
  public static final int KEEP_RUNNING = Integer.MIN_VALUE;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command");
  }

  /** The command line of this process, as a user would type it again. */
  private static volatile String invocation = "fencelab";

  public static String invocation() {
    return invocation;
  }

  /** This fencelab: its version and, when the launcher knew it, the git commit it was built from. */
  public static String build() {
    String commit = System.getProperty("fencelab.commit", "");
    return "fencelab " + Member.version() + (commit.isEmpty() ? "" : " (" + commit + ")");
  }

  public static void main(String[] args) {
    invocation = "fencelab " + String.join(" ", java.util.Arrays.stream(args)
        .map(a -> a.matches("[A-Za-z0-9_./:=@,+-]+") ? a : "'" + a.replace("'", "'\\''") + "'").toList());
    int code = commandLine().execute(args);
    if (code != KEEP_RUNNING) {
      System.exit(code);
    }
  }

  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Fencelab());
    cl.setParameterExceptionHandler((ex, args) -> {
      CommandLine bad = ex.getCommandLine();
      java.io.PrintWriter err = bad.getErr();
      err.println("error: " + ex.getMessage() + " (see '" + bad.getCommandSpec().qualifiedName() + " --help')");
      CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
      err.flush();
      return CommandLine.ExitCode.USAGE;
    });
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      if (ex instanceof UserError u) {
        cmd.getErr().println("error: " + u.getMessage());
        cmd.getErr().flush();
        return u.exitCode();
      }
      throw ex;
    });
    return cl;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {build() + " (Java " + Runtime.version() + ")"};
    }
  }
}
