package dev.fencelab.protocol.control;

/** Marker of every control-plane message; bound to {@link ControlSerializer}. */
public interface ControlMessage {}
