package io.capmesh.extensions.misbehaving.logginghandler;

import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Adds a handler of its own to the root {@code java.util.logging} logger (held strongly, for the JVM's life) and
 * sets a named logger to a custom level of its own, as logging bridges do.
 */
public final class LoggingHandlerExtension implements Extension {

    private static final Logger LOG = Logger.getLogger("capmesh.test.logging-handler");

    @Override
    public void start(ExtensionContext context) {
        Logger.getLogger("").addHandler(new Collecting());
        LOG.setLevel(Chatty.CHATTY);
        LOG.log(Chatty.CHATTY, "started");
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        return invocation.payload();
    }

    private static final class Collecting extends Handler {
        @Override
        public void publish(LogRecord record) {
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }

    private static final class Chatty extends Level {
        static final Chatty CHATTY = new Chatty();

        private Chatty() {
            super("CHATTY", 650);
        }
    }
}
