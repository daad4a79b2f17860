package io.capmesh.extensions.misbehaving.jdbcdriver;

import io.capmesh.extension.api.CapabilityException;
import io.capmesh.extension.api.Extension;
import io.capmesh.extension.api.ExtensionContext;
import io.capmesh.extension.api.Invocation;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * Registers its own JDBC driver with DriverManager and never deregisters it: DriverManager's static list then
 * keeps this extension's classloader alive.
 */
public final class JdbcDriverExtension implements Extension {

    @Override
    public void start(ExtensionContext context) throws SQLException {
        DriverManager.registerDriver(new LeakyDriver());
    }

    @Override
    public byte[] invoke(Invocation invocation) {
        if (invocation.method().equals("ok")) {
            return invocation.payload();
        }
        throw CapabilityException.notFound("test.jdbc-driver has no method " + invocation.method());
    }
}
