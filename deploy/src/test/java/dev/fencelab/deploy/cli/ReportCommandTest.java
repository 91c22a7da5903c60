package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.coordinator.scenario.ScenarioLoader;
import dev.fencelab.deploy.UserError;
import dev.fencelab.protocol.trace.v1.RunRecord;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A kept run re-judged from its run.pb, with no cluster. */
class ReportCommandTest {
  @TempDir Path dir;

  private Path run(String expect) throws Exception {
    var s = ScenarioLoader.parse("name: kept\nnodes: [{name: n1}]\n" + expect, "kept.yaml", false).scenario();
    Files.write(dir.resolve("run.pb"), RunRecord.newBuilder().setScenario("kept").setSeed(7).setDefinition(s).build().toByteArray());
    return dir;
  }

  private static int rejudge(Path dir, ByteArrayOutputStream out) throws Exception {
    return ReportCommand.rejudge(dir, dir, new PrintStream(out, true, StandardCharsets.UTF_8));
  }

  @Test
  void aKeptRunIsJudgedAgainAndItsFilesWrittenAgain() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertEquals(0, rejudge(run(""), out), out.toString(StandardCharsets.UTF_8));
    assertTrue(Files.isRegularFile(dir.resolve("verdict.json")) && Files.isRegularFile(dir.resolve("report.html")));
    assertTrue(out.toString(StandardCharsets.UTF_8).contains("scenario kept, seed 7"), out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void anExpectationTheRecordDoesNotMeetFailsTheRejudgedRun() throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = rejudge(run("steps: [{id: s, node: n1, context_alloc: {as: c}}, {id: f, node: n1, fence: {context: c, as: fA}}]\n"
        + "expect: {fences: [{fence: fA, status: ENODEV}]}\n"), out);
    assertEquals(1, code, out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aDirectoryWithoutARunRecordIsBadInput() {
    UserError e = assertThrows(UserError.class, () -> rejudge(dir, new ByteArrayOutputStream()));
    assertTrue(e.getMessage().startsWith("no run.pb in " + dir), e.getMessage());
  }
}
