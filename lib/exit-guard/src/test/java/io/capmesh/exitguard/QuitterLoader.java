package io.capmesh.exitguard;

import java.io.IOException;
import java.io.InputStream;

/** Defines {@link Quitter} itself (not delegating it), as an extension's loader defines the extension's classes. */
final class QuitterLoader extends ClassLoader {

    static final String NAME = "quitter@1.0.0";

    QuitterLoader() {
        super("quitter", QuitterLoader.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        if (!name.equals(Quitter.class.getName())) {
            return super.loadClass(name, resolve);
        }
        synchronized (getClassLoadingLock(name)) {
            Class<?> loaded = findLoadedClass(name);
            if (loaded != null) {
                return loaded;
            }
            try (InputStream in = QuitterLoader.class.getResourceAsStream("Quitter.class")) {
                byte[] bytes = in.readAllBytes();
                return defineClass(name, bytes, 0, bytes.length);
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }

    /** The policy a runtime host sets: this loader's code is the extension's, nothing else is. */
    static void govern(java.util.function.Consumer<ExitGate.Attempt> onBlocked) {
        ExitGate.govern(loader -> loader instanceof QuitterLoader ? NAME : null, onBlocked);
    }
}
