/**
 * Fixtures for multi-JVM tests: {@link dev.fencelab.testkit.TestCluster} starts real member JVMs from the
 * fencelab jar through the same launcher users run (ephemeral ports, {@code serialize-messages = on}), and
 * {@link dev.fencelab.testkit.ClusterLogs} stops them after each test and prints their logs only when the
 * test failed.
 */
package dev.fencelab.testkit;
