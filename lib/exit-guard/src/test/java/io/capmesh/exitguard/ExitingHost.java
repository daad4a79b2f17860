package io.capmesh.exitguard;

/** A host in a JVM of its own: an extension's exit is refused, then the host exits as it means to. */
public final class ExitingHost {

    static final int STATUS = 42;

    private ExitingHost() {
    }

    public static void main(String[] args) throws Exception {
        System.out.println("armed: " + ExitGate.armed());
        QuitterLoader.govern(attempt -> { });
        try {
            new QuitterLoader().loadClass(Quitter.class.getName()).getMethod("direct").invoke(null);
            System.out.println("not refused");
        } catch (java.lang.reflect.InvocationTargetException e) {
            System.out.println("refused: " + e.getCause().getMessage());
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("shutdown hook ran")));
        System.exit(STATUS);
    }
}
