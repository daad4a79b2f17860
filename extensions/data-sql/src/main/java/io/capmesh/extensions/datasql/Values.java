package io.capmesh.extensions.datasql;

import com.google.protobuf.ByteString;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import io.capmesh.extensions.datasql.v1.Column;
import io.capmesh.extensions.datasql.v1.Row;
import io.capmesh.extensions.datasql.v1.Value;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Between protobuf {@link Value}s and JDBC: parameters are bound by type with the standard setters, so no value
 * is ever part of the SQL text; columns are read by their JDBC type, the same way for every driver.
 */
final class Values {

    static final Value NULL = Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();

    private Values() {
    }

    static void bind(PreparedStatement statement, List<Value> params) throws SQLException {
        for (int i = 0; i < params.size(); i++) {
            bind(statement, i + 1, params.get(i));
        }
    }

    private static void bind(PreparedStatement statement, int index, Value value) throws SQLException {
        switch (value.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> statement.setNull(index, Types.NULL);
            case BOOL_VALUE -> statement.setBoolean(index, value.getBoolValue());
            case INT64_VALUE -> statement.setLong(index, value.getInt64Value());
            case DOUBLE_VALUE -> statement.setDouble(index, value.getDoubleValue());
            case STRING_VALUE -> statement.setString(index, value.getStringValue());
            case BYTES_VALUE -> statement.setBytes(index, value.getBytesValue().toByteArray());
            case DECIMAL_VALUE -> statement.setBigDecimal(index, decimal(index, value.getDecimalValue()));
            // an instant: TIMESTAMP WITH TIME ZONE as it is, TIMESTAMP in the session's (the runtime's) zone
            case TIMESTAMP_VALUE -> statement.setObject(index, OffsetDateTime.ofInstant(Instant.ofEpochSecond(
                    value.getTimestampValue().getSeconds(), value.getTimestampValue().getNanos()), ZoneOffset.UTC));
        }
    }

    private static BigDecimal decimal(int index, String text) {
        try {
            return new BigDecimal(text);
        } catch (NumberFormatException e) {
            throw SqlFailure.invalid("parameter " + index + " is not a decimal number: '" + text + "'");
        }
    }

    static List<Column> columns(ResultSetMetaData meta) throws SQLException {
        List<Column> columns = new ArrayList<>(meta.getColumnCount());
        for (int i = 1; i <= meta.getColumnCount(); i++) {
            columns.add(Column.newBuilder().setName(meta.getColumnLabel(i)).setType(meta.getColumnTypeName(i)).build());
        }
        return columns;
    }

    static int[] types(ResultSetMetaData meta) throws SQLException {
        int[] types = new int[meta.getColumnCount()];
        for (int i = 0; i < types.length; i++) {
            types[i] = meta.getColumnType(i + 1);
        }
        return types;
    }

    /** The current row of {@code rows}, whose columns have the given JDBC types. */
    static Row row(ResultSet rows, int[] types) throws SQLException {
        Row.Builder row = Row.newBuilder();
        for (int i = 0; i < types.length; i++) {
            row.addValues(read(rows, i + 1, types[i]));
        }
        return row.build();
    }

    private static Value read(ResultSet rows, int index, int type) throws SQLException {
        Value.Builder value = Value.newBuilder();
        switch (type) {
            case Types.BIT, Types.BOOLEAN -> value.setBoolValue(rows.getBoolean(index));
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> value.setInt64Value(rows.getLong(index));
            case Types.REAL, Types.FLOAT, Types.DOUBLE -> value.setDoubleValue(rows.getDouble(index));
            case Types.NUMERIC, Types.DECIMAL -> {
                BigDecimal decimal = rows.getBigDecimal(index);
                if (decimal != null) {
                    value.setDecimalValue(decimal.toPlainString());
                }
            }
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> {
                byte[] bytes = rows.getBytes(index);
                if (bytes != null) {
                    value.setBytesValue(ByteString.copyFrom(bytes));
                }
            }
            case Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE -> {
                java.sql.Timestamp at = rows.getTimestamp(index);
                if (at != null) {
                    Instant instant = at.toInstant();
                    value.setTimestampValue(Timestamp.newBuilder().setSeconds(instant.getEpochSecond())
                            .setNanos(instant.getNano()));
                }
            }
            default -> {
                String text = rows.getString(index);
                if (text != null) {
                    value.setStringValue(text);
                }
            }
        }
        return rows.wasNull() ? NULL : value.build();
    }
}
