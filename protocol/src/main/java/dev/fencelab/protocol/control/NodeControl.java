package dev.fencelab.protocol.control;

/**
 * What a node agent accepts from the coordinator. Not sealed: a node agent's own internal messages
 * (which never leave its JVM) extend this type too.
 */
public interface NodeControl {}
