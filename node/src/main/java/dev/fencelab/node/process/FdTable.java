package dev.fencelab.node.process;

import java.util.TreeMap;

/** A process's file-descriptor table: fds from 3 up, the lowest free one allocated first, as POSIX requires. */
final class FdTable {
  private static final int FIRST_FD = 3;

  private final TreeMap<Integer, OpenFile> files = new TreeMap<>();

  /** Installs {@code file} at the lowest free fd and returns it. */
  int install(OpenFile file) {
    int fd = FIRST_FD;
    for (int used : files.keySet()) {
      if (used != fd) {
        break;
      }
      fd++;
    }
    files.put(fd, file);
    return fd;
  }

  /** The file at {@code fd}, or null (not open). */
  OpenFile get(int fd) {
    return files.get(fd);
  }

  /** Closes {@code fd}; false if it was not open. */
  boolean close(int fd) {
    return files.remove(fd) != null;
  }
}
