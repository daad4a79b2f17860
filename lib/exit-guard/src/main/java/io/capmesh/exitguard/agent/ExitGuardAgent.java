package io.capmesh.exitguard.agent;

import io.capmesh.exitguard.Instrumenter;

import java.io.File;
import java.io.IOException;
import java.lang.instrument.Instrumentation;
import java.net.JarURLConnection;
import java.net.URL;
import java.util.Enumeration;
import java.util.jar.JarFile;

/**
 * The agent's entry ({@code -javaagent:capmesh-exit-guard.jar}): puts its own jar on the boot class path, so that
 * {@link io.capmesh.exitguard.ExitGate} is one class the JDK and every loader share, then instruments exit and
 * halt. A start with a class data sharing archive puts the jar there itself ({@code -Xbootclasspath/a:}), in the
 * training start too: else the archive holds the gate as the application loader's class, a second copy. A failure is reported and the JVM starts without containment (the runtime says so at start) rather than
 * not at all.
 */
public final class ExitGuardAgent {

    private ExitGuardAgent() {
    }

    public static void premain(String arguments, Instrumentation instrumentation) {
        try {
            if (!onBootClassPath()) { // else -Xbootclasspath/a put it there, as class data sharing needs
                instrumentation.appendToBootstrapClassLoaderSearch(agentJar());
            }
            // resolved from here on through the boot loader, which now holds this jar
            Instrumenter.instrument(instrumentation);
        } catch (Exception | LinkageError e) {
            System.err.println("capmesh exit guard: exits are NOT contained in this JVM: " + e);
        }
    }

    private static boolean onBootClassPath() {
        try {
            Class.forName("io.capmesh.exitguard.ExitGate", false, null);
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /**
     * The agent's jar: the one on the class path whose manifest names this class as the agent. Not simply where
     * this class came from: a test's class path may list the module's classes directory before the agent jar.
     */
    private static JarFile agentJar() throws IOException {
        String self = ExitGuardAgent.class.getName().replace('.', '/') + ".class";
        Enumeration<URL> copies = ClassLoader.getSystemClassLoader().getResources(self);
        while (copies.hasMoreElements()) {
            URL copy = copies.nextElement();
            if (copy.openConnection() instanceof JarURLConnection connection) {
                JarFile jar;
                try {
                    jar = new JarFile(new File(connection.getJarFileURL().toURI()));
                } catch (java.net.URISyntaxException e) {
                    throw new IOException(e);
                }
                var manifest = jar.getManifest();
                if (manifest != null && ExitGuardAgent.class.getName()
                        .equals(manifest.getMainAttributes().getValue("Premain-Class"))) {
                    return jar;
                }
                jar.close();
            }
        }
        throw new IOException("no jar on the class path has Premain-Class " + ExitGuardAgent.class.getName());
    }
}
