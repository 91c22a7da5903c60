package dev.fencelab.node.process;

import dev.fencelab.node.driver.DmaBufRef;
import dev.fencelab.node.fence.FenceRef;

/** What an fd of a process refers to. */
sealed interface OpenFile {
  /** An open sync_file: a name and one fence (possibly an array). */
  record SyncFile(FenceRef fence, String name) implements OpenFile {}

  /** An open dma-buf. */
  record DmaBufFile(DmaBufRef buf) implements OpenFile {}
}
