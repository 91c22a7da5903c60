/**
 * The local multi-process cluster: members as separate JVMs on 127.0.0.1 (real processes, real Artery TCP,
 * real protobuf), described by a {@code cluster.json} manifest in the cluster's run directory.
 *
 * <p>Contract: {@code up} returns only when every member is {@code Up}, every node agent registered and
 * answered a ping — or fails naming the member and its log, and leaves nothing running. {@code down} sends
 * SIGTERM (Pekko's coordinated shutdown: leave, then exit) and SIGKILLs a member still alive after the
 * grace period. A run directory holds at most one running cluster.
 */
package dev.fencelab.deploy.local;
