package dev.fencelab.coordinator.scenario.run;

import dev.fencelab.protocol.trace.v1.EventKind;
import dev.fencelab.protocol.trace.v1.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/** What the runner itself records: its own trace events (steps, faults, checksums), notes for the verdict, progress lines. */
final class RunLog {
  private final long start = System.nanoTime();
  private final Consumer<String> progress;
  private final List<TraceEvent> events = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  /** The latest model time a node reported with a step's answer: the runner's events sit there, not at 0. */
  private long model;

  RunLog(Consumer<String> progress) {
    this.progress = progress;
  }

  long start() {
    return start;
  }

  /** A runner event of {@code kind} on {@code track}; fill it and it is recorded when {@link #add} is called. */
  static TraceEvent.Builder event(EventKind kind, String track) {
    return TraceEvent.newBuilder().setKind(kind).setTrack(track);
  }

  void add(TraceEvent.Builder e) {
    if (e.getModelNanos() == 0) {
      e.setModelNanos(model);
    }
    events.add(e.setNode("runner").setWallNanos(e.getWallNanos() == 0 ? System.nanoTime() : e.getWallNanos()).build());
  }

  /** A node's model clock, as it came with a step's answer. */
  void observeModel(long modelNanos) {
    model = Math.max(model, modelNanos);
  }

  void say(String line) {
    progress.accept(String.format("  [%8.3fs] %s", (System.nanoTime() - start) / 1e9, line));
  }

  void note(String note) {
    notes.add(note);
  }

  List<TraceEvent> events() {
    return events;
  }

  List<String> notes() {
    return notes;
  }
}
