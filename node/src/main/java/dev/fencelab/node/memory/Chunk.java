package dev.fencelab.node.memory;

import java.util.Objects;

/** A piece of content at a buffer offset, as it travels in copies: real bytes, or a pattern range. */
public sealed interface Chunk {
  long offset();

  long length();

  /** Real bytes. */
  record Bytes(long offset, byte[] data) implements Chunk {
    public Bytes {
      Objects.requireNonNull(data, "data");
    }

    @Override
    public long length() {
      return data.length;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Bytes b && b.offset == offset && java.util.Arrays.equals(b.data, data);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(offset) * 31 + java.util.Arrays.hashCode(data);
    }

    @Override
    public String toString() {
      return "Bytes[" + offset + ", +" + data.length + "]";
    }
  }

  /** {@code length} bytes of pattern {@code seed} starting at pattern position {@code patternOffset}; seed 0: zeros. */
  record Pattern(long offset, long length, long seed, long patternOffset) implements Chunk {
    public Pattern {
      if (length < 0) {
        throw new IllegalArgumentException("negative length " + length);
      }
    }
  }

  /** The same content at another buffer offset. */
  default Chunk at(long newOffset) {
    if (this instanceof Bytes b) {
      return new Bytes(newOffset, b.data());
    }
    Pattern p = (Pattern) this;
    return new Pattern(newOffset, p.length(), p.seed(), p.patternOffset());
  }
}
