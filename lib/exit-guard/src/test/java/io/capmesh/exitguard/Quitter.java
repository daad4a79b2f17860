package io.capmesh.exitguard;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;

/** Stands in for extension code: loaded by a loader of its own, it tries every way of ending the JVM. */
public final class Quitter {

    private Quitter() {
    }

    public static void direct() {
        System.exit(3);
    }

    public static void halt() {
        Runtime.getRuntime().halt(4);
    }

    public static void reflection() throws Exception {
        Runtime.class.getMethod("exit", int.class).invoke(Runtime.getRuntime(), 5);
    }

    public static void methodHandle() throws Throwable {
        MethodHandles.publicLookup().findVirtual(Runtime.class, "halt", MethodType.methodType(void.class, int.class))
                .invoke(Runtime.getRuntime(), 6);
    }

    /** Past the public API, into the JDK's own shutdown (reachable when java.lang is opened, as runtimes do). */
    public static void shutdownInternals() throws Exception {
        Method exit = Class.forName("java.lang.Shutdown").getDeclaredMethod("exit", int.class);
        exit.setAccessible(true);
        exit.invoke(null, 7);
    }

    public static void fromThread() throws InterruptedException {
        Thread thread = new Thread(() -> System.exit(8), "quitter-thread");
        thread.start();
        thread.join();
    }

    /** Swallows the refusal, as careless code does. */
    public static String swallowed() {
        try {
            System.exit(9);
            return "exited";
        } catch (SecurityException refused) {
            return "refused";
        }
    }
}
