package dev.fencelab.protocol.control;

/** What the coordinator singleton accepts from outside. Not sealed for the same reason as {@link NodeControl}. */
public interface CoordinatorControl {}
