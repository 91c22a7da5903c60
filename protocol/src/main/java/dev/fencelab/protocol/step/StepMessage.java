package dev.fencelab.protocol.step;

/** Marker of the step protocol's messages; bound to {@link StepSerializer}. */
public interface StepMessage {}
