package dev.fencelab.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.fencelab.node.bench.BenchFigure;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchTlsCostTest {
  @Test
  void aRateHalvedByTlsCostsTwiceAndALatencyDoubledByTlsCostsTwiceToo() {
    assertEquals(2.0, BenchCommand.cost(1000, 500, true), 1e-9);
    assertEquals(2.0, BenchCommand.cost(10, 20, false), 1e-9);
    assertTrue(Double.isNaN(BenchCommand.cost(0, 20, false)), "no figure, no cost");
  }

  @Test
  void theCostTableHasOneRowPerFigureMeasuredBothWaysWithFencelabsAndRawPekkosCost() {
    List<BenchFigure> plain = List.of(new BenchFigure("rdma.write_mb_s", "MB/s", 800, 900, 0.89, true),
        new BenchFigure("only.plain", "x", 1, 1, 1, true));
    List<BenchFigure> tls = List.of(new BenchFigure("rdma.write_mb_s", "MB/s", 400, 600, 0.67, true));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    BenchCommand.printTlsCost(plain, tls, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    List<String> rows = bytes.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("rdma.") || l.startsWith("only.")).toList();
    assertEquals(1, rows.size(), "a figure of one run only has no cost: " + rows);
    assertTrue(rows.get(0).matches("rdma\\.write_mb_s\\s+800\\.00\\s+400\\.00\\s+2\\.00\\s+900\\.00\\s+600\\.00\\s+1\\.50"), rows.get(0));
  }
}
