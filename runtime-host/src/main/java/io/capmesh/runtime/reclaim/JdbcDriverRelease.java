package io.capmesh.runtime.reclaim;

import java.sql.Driver;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.Supplier;

/**
 * Deregisters the JDBC drivers of one extension. {@link DriverManager} lets only code from a driver's own
 * classloader see and deregister it, so the runtime defines this class inside the extension's loader and runs
 * it there. It must refer to JDK types only: nothing else is visible from inside.
 */
public final class JdbcDriverRelease implements Supplier<List<String>> {

    @Override
    public List<String> get() {
        List<String> released = new ArrayList<>();
        ClassLoader own = getClass().getClassLoader();
        for (Driver driver : Collections.list(DriverManager.getDrivers())) {
            if (driver.getClass().getClassLoader() == own) {
                try {
                    DriverManager.deregisterDriver(driver);
                    released.add(driver.getClass().getName());
                } catch (SQLException | SecurityException e) {
                    // left registered; reported as a cause if the loader is not collected
                }
            }
        }
        return released;
    }
}
