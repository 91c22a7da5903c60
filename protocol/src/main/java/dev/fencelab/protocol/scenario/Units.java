package dev.fencelab.protocol.scenario;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Sizes ("4MiB", "512KiB", "4096") and durations ("2ms", "1.5s", "300us", "10ns") as scenarios write them. */
public final class Units {
  private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB|TiB|KB|MB|GB|TB)?");
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ns|us|µs|ms|s|m|min)");

  private static final Pattern RATE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(Gbit|Mbit|TB|GB|MB)(?:/s)?");

  private Units() {}

  /**
   * A link rate ("100Gbit", "25Gbit/s", "12.5GB", "800MB/s", "1TB/s") in bytes per nanosecond, or -1 when {@code text} is not
   * one (or is zero).
   */
  public static double rate(String text) {
    Matcher m = RATE.matcher(text.trim());
    if (!m.matches()) {
      return -1;
    }
    double v = Double.parseDouble(m.group(1));
    double bytesPerSecond = switch (m.group(2)) {
      case "Gbit" -> v * 1e9 / 8;
      case "Mbit" -> v * 1e6 / 8;
      case "TB" -> v * 1e12;
      case "GB" -> v * 1e9;
      default -> v * 1e6;
    };
    return bytesPerSecond > 0 ? bytesPerSecond / 1e9 : -1;
  }

  /** Bytes, or -1 when {@code text} is not a size. */
  public static long bytes(String text) {
    Matcher m = SIZE.matcher(text.trim());
    if (!m.matches()) {
      return -1;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      return -1; // more digits than a long holds
    }
    String unit = m.group(2) == null ? "B" : m.group(2);
    long mult = switch (unit) {
      case "KiB" -> 1L << 10;
      case "MiB" -> 1L << 20;
      case "GiB" -> 1L << 30;
      case "TiB" -> 1L << 40;
      case "KB" -> 1_000L;
      case "MB" -> 1_000_000L;
      case "GB" -> 1_000_000_000L;
      case "TB" -> 1_000_000_000_000L;
      default -> 1L;
    };
    try {
      return Math.multiplyExact(n, mult);
    } catch (ArithmeticException e) {
      return -1; // past 2^63 bytes: not a size anything here can have
    }
  }

  /** Nanoseconds, or -1 when {@code text} is not a duration with a unit. */
  public static long nanos(String text) {
    Matcher m = DURATION.matcher(text.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      return -1;
    }
    double v = Double.parseDouble(m.group(1));
    double mult = switch (m.group(2)) {
      case "ns" -> 1;
      case "us", "µs" -> 1e3;
      case "ms" -> 1e6;
      case "s" -> 1e9;
      default -> 60e9;
    };
    return Math.round(v * mult);
  }

  /** A duration for people: 950ns, 12.3us, 4.20ms, 1.50s. */
  public static String human(long nanos) {
    if (nanos < 1_000) {
      return nanos + "ns";
    }
    if (nanos < 1_000_000) {
      return String.format(Locale.ROOT, "%.1fus", nanos / 1e3);
    }
    if (nanos < 1_000_000_000) {
      return String.format(Locale.ROOT, "%.2fms", nanos / 1e6);
    }
    return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
  }
}
