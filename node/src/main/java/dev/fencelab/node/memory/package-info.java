/**
 * Memory content: what a buffer holds, so that "nothing lost" and "the copy arrived intact" are checkable
 * (DESIGN.md "Data").
 *
 * <p>{@link dev.fencelab.node.memory.Content} holds real bytes for buffers up to the bytes threshold
 * ({@code fencelab.memory.bytes-threshold}), allocated lazily per 64 KiB page (an untouched page reads as zeros),
 * and segments for larger ones: ranges that map to a deterministic pattern ({@code seed}, position), or to bytes
 * a copy brought in. A 64 GiB VRAM buffer costs nothing until written.
 *
 * <p>Contract:
 * <ul>
 *   <li>A pattern byte depends only on {@code (seed, pattern position)}; seed 0 is all zeros. A copy keeps the
 *       pattern (it shifts the position), so copying a large buffer moves segment descriptors, not bytes; copying
 *       a bytes buffer moves bytes. Either way the destination reads back the same bytes.
 *   <li>{@link dev.fencelab.node.memory.Content#checksum()} is CRC32C over the logical bytes in order (plus the
 *       size): it does not depend on how content is represented, so a bytes buffer and a segment buffer with the
 *       same bytes have the same checksum. It costs O(size).
 *   <li>Reads and writes outside {@code [0, size)} are refused ({@link java.lang.IndexOutOfBoundsException}); the
 *       driver turns that into {@code -EINVAL} before it gets here.
 * </ul>
 */
package dev.fencelab.node.memory;
