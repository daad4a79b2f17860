package io.capmesh.runtime.reclaim;

import java.security.Provider;
import java.security.Security;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.ResourceBundle;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import javax.management.MBeanServer;
import javax.management.MBeanServerFactory;
import javax.management.ObjectName;

/**
 * The JDK's own registries that libraries put objects into, and that would keep an extension's classloader alive
 * after it is unloaded, in the manner of Tomcat's {@code clearReferences*}:
 *
 * <ul>
 *   <li>cleaned, as only the extension could have put them there: its handlers, filters and levels on
 *       {@code java.util.logging} loggers, the default and per-thread uncaught-exception handlers that are its
 *       objects, the {@code java.security} providers it added, and the MBeans it registered;</li>
 *   <li>cleared on every unload, as they are caches the JDK rebuilds: the {@code ResourceBundle} cache of its
 *       loader and the {@code java.beans.Introspector} caches;</li>
 *   <li>named only, as cleaning could break someone else: a handler of the host whose formatter or filter is the
 *       extension's.</li>
 * </ul>
 *
 * Custom {@code Level}s are held weakly by the JDK; a logger set to one holds it, and is reset.
 */
final class JdkRegistries {

    private static final System.Logger LOG = System.getLogger(JdkRegistries.class.getName());

    /** Removes what the extension left in the registries; returns what was done. */
    List<String> cleanUp(LoaderIdentity owner, ClassLoader loader) {
        List<String> cleaned = new ArrayList<>(sweep(owner, true));
        ResourceBundle.clearCache(loader);
        flushIntrospector();
        return cleaned;
    }

    /** What in the registries still refers to the extension. */
    List<String> diagnose(LoaderIdentity owner) {
        return sweep(owner, false);
    }

    /** Finds the extension's entries: removes them and says so when {@code clean}, else names them. */
    private static List<String> sweep(LoaderIdentity owner, boolean clean) {
        List<String> found = new ArrayList<>();
        logging(owner, clean, found);
        Thread.UncaughtExceptionHandler handler = Thread.getDefaultUncaughtExceptionHandler();
        if (owner.owns(handler)) {
            if (clean) {
                Thread.setDefaultUncaughtExceptionHandler(null);
            }
            found.add((clean ? "removed" : "the JVM's") + " default uncaught-exception handler "
                    + handler.getClass().getName() + (clean ? "" : " is the extension's")
                    + " (Thread.setDefaultUncaughtExceptionHandler)");
        }
        for (Thread thread : LeakInspector.liveThreads()) {
            Thread.UncaughtExceptionHandler own = thread.getUncaughtExceptionHandler();
            if (own != thread.getThreadGroup() && owner.owns(own)) {
                if (clean) {
                    thread.setUncaughtExceptionHandler(null);
                }
                found.add((clean ? "removed the" : "the") + " uncaught-exception handler " + own.getClass().getName()
                        + (clean ? " from" : " of the extension is set on") + " thread '" + thread.getName() + "'");
            }
        }
        for (Provider provider : Security.getProviders()) {
            if (owner.owns(provider)) {
                if (clean) {
                    Security.removeProvider(provider.getName());
                }
                found.add((clean ? "removed" : "the extension's") + " security provider '" + provider.getName() + "' ("
                        + provider.getClass().getName() + (clean ? ", added with Security.addProvider)"
                        : ") is registered in java.security.Security"));
            }
        }
        for (MBeanServer server : MBeanServerFactory.findMBeanServer(null)) { // never creates the platform's
            for (ObjectName name : server.queryNames(null, null)) {
                try {
                    if (owner.is(server.getClassLoaderFor(name))) {
                        if (clean) {
                            server.unregisterMBean(name);
                        }
                        found.add((clean ? "unregistered" : "the extension's") + " MBean " + name
                                + (clean ? "" : " is registered in the MBean server"));
                    }
                } catch (javax.management.JMException | RuntimeException gone) {
                    // unregistered meanwhile
                }
            }
        }
        return found;
    }

    private static void logging(LoaderIdentity owner, boolean clean, List<String> found) {
        LogManager manager = LogManager.getLogManager();
        for (String name : Collections.list(manager.getLoggerNames())) {
            Logger logger = manager.getLogger(name);
            if (logger == null) {
                continue; // named loggers are held weakly and this one was collected
            }
            String shown = name.isEmpty() ? "the root logger" : "logger '" + name + "'";
            for (Handler handler : logger.getHandlers()) {
                if (owner.owns(handler)) {
                    if (clean) {
                        logger.removeHandler(handler);
                        closeQuietly(handler);
                    }
                    found.add((clean ? "removed" : "the extension's") + " java.util.logging handler "
                            + handler.getClass().getName() + (clean ? " from " : " is on ") + shown);
                } else if (owner.owns(handler.getFormatter()) || owner.owns(handler.getFilter())) {
                    found.add("handler " + handler.getClass().getName() + " on " + shown + " has the extension's "
                            + (owner.owns(handler.getFilter()) ? "filter" : "formatter")
                            + " (not reset: the handler is someone else's)");
                }
            }
            if (owner.owns(logger.getFilter())) {
                if (clean) {
                    logger.setFilter(null);
                }
                found.add((clean ? "removed the extension's filter from " : "the extension's filter is on ") + shown);
            }
            Level level = logger.getLevel();
            if (owner.owns(level)) {
                Level reset = name.isEmpty() ? Level.INFO : null; // the root needs a level, the others inherit
                if (clean) {
                    logger.setLevel(reset);
                }
                found.add((clean ? "reset " : "") + shown + (clean ? " from" : " is set to") + " the extension's level "
                        + level.getName() + (clean ? " to " + (reset == null ? "its parent's" : reset.getName()) : ""));
            }
        }
    }

    private static void closeQuietly(Handler handler) {
        try {
            handler.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "closing an unloaded extension's log handler failed", e);
        }
    }

    /** The bean caches hold classes they looked at, softly: cleared so a collection need not wait for memory pressure. */
    private static void flushIntrospector() {
        if (ModuleLayer.boot().findModule("java.desktop").isEmpty()) {
            return;
        }
        try {
            Class.forName("java.beans.Introspector").getMethod("flushCaches").invoke(null);
        } catch (ReflectiveOperationException | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "flushing the java.beans caches failed", e);
        }
    }
}
