package io.capmesh.data;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;

/**
 * How the host tells extensions that a datasource is read-only without a shared class: its connections answer
 * {@code isReadOnly()} with true, whatever the driver says (H2 answers for its whole database, not for the
 * connection), and cannot be switched back. Extensions see only {@code javax.sql} and {@code java.sql} types.
 */
final class ReadOnlyDataSource {

    private ReadOnlyDataSource() {
    }

    static DataSource of(DataSource pool) {
        return proxy(DataSource.class, (self, method, args) -> {
            Object result = call(pool, method, args);
            return method.getName().equals("getConnection") ? readOnly((Connection) result) : result;
        });
    }

    private static Connection readOnly(Connection connection) {
        return proxy(Connection.class, (self, method, args) -> switch (method.getName()) {
            case "isReadOnly" -> true;
            case "setReadOnly" -> {
                if (!(Boolean) args[0]) {
                    throw new SQLException("this datasource is read-only", "25006");
                }
                yield null;
            }
            default -> call(connection, method, args);
        });
    }

    private static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return type.cast(Proxy.newProxyInstance(ReadOnlyDataSource.class.getClassLoader(), new Class<?>[] {type},
                handler));
    }
}
