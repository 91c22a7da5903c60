package dev.fencelab.deploy.member;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.filter.ThresholdFilter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import java.util.Iterator;

/**
 * The log of a command's client member: everything from INFO up goes to {@code <run-dir>/<name>.log}, as a member's
 * does, while the terminal keeps showing only what it showed before ({@code consoleLevel} and up).
 */
final class ClientLog {
  private ClientLog() {}

  /** Starts writing {@code file}; closing the result stops it (a command may run several clients one after another). */
  static AutoCloseable attach(Path file, String consoleLevel) {
    if (!(org.slf4j.LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return () -> {}; // another SLF4J binding: it decides
    }
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    synchronized (ClientLog.class) {
      for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext();) {
        Appender<ILoggingEvent> a = it.next();
        if (!a.getName().startsWith("client-file") && a.getCopyOfAttachedFiltersList().isEmpty()) {
          ThresholdFilter console = new ThresholdFilter(); // the terminal keeps its level: once per appender
          console.setLevel(consoleLevel.equals("WARNING") ? "WARN" : consoleLevel);
          console.start();
          a.addFilter(console);
        }
      }
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
    encoder.start();
    FileAppender<ILoggingEvent> appender = new FileAppender<>();
    appender.setContext(context);
    appender.setName("client-file-" + file.getFileName());
    appender.setFile(file.toString());
    appender.setEncoder(encoder);
    appender.start();
    root.addAppender(appender);
    root.setLevel(Level.INFO);
    return () -> {
      root.detachAppender(appender);
      appender.stop();
    };
  }
}
