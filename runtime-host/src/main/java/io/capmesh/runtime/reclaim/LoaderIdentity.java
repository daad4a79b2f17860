package io.capmesh.runtime.reclaim;

import io.capmesh.runtime.loader.ExtensionClassLoader;
import java.lang.ref.Reference;

/**
 * Recognizes what belongs to one extension classloader without holding it: its serial for objects and classes,
 * its name for stack frames. Leak diagnosis uses this, since holding the loader would itself keep it alive.
 *
 * @param serial      the loader's {@link ExtensionClassLoader#serial()}
 * @param name        the loader's name, as stack frames give it
 * @param coordinates {@code id@version}
 */
public record LoaderIdentity(long serial, String name, String coordinates) {

    public static LoaderIdentity of(ExtensionClassLoader loader) {
        return new LoaderIdentity(loader.serial(), loader.getName(), loader.extension());
    }

    public boolean is(ClassLoader loader) {
        return loader instanceof ExtensionClassLoader extension && extension.serial() == serial;
    }

    /** The class was defined by the loader (a lambda's hidden class counts as its defining class's). */
    public boolean defined(Class<?> type) {
        return type != null && is(type.getClassLoader());
    }

    /**
     * The object is the loader, one of its classes, or an instance of one; a reference counts for its referent
     * (a soft or weak cache entry keeps its referent until memory runs short or a collection clears it).
     */
    public boolean owns(Object object) {
        if (object instanceof Reference<?> reference) {
            object = reference.get();
        }
        if (object == null) {
            return false;
        }
        if (object instanceof ClassLoader loader) {
            return is(loader);
        }
        return defined(object instanceof Class<?> type ? type : object.getClass());
    }

    /** The frame runs code of the loader's classes. */
    public boolean runs(StackTraceElement frame) {
        return name.equals(frame.getClassLoaderName());
    }
}
