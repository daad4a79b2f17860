package io.capmesh.extensions.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.capmesh.extension.api.CapabilityException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.erdtman.jcs.NumberToJSON;

/**
 * RFC 8785 (JCS) serialization: members sorted by their names' UTF-16 code units, numbers as ECMAScript prints
 * an IEEE 754 double, strings with the minimal JSON escapes, no whitespace, UTF-8.
 *
 * <p>The number formatter is the one from the RFC's Java reference implementation; its parser is not used,
 * because Jackson's reports where the input is wrong and rejects duplicate names the same way every method does.
 */
final class Canonical {

    private Canonical() {
    }

    static byte[] canonicalize(JsonNode value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void write(JsonNode value, StringBuilder out) {
        switch (value.getNodeType()) {
            case OBJECT -> {
                // String.compareTo orders by UTF-16 code units, exactly as RFC 8785 section 3.2.3 asks.
                Map<String, JsonNode> members = new TreeMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> member = it.next();
                    members.put(member.getKey(), member.getValue());
                }
                out.append('{');
                String separator = "";
                for (Map.Entry<String, JsonNode> member : members.entrySet()) {
                    out.append(separator);
                    string(member.getKey(), out);
                    out.append(':');
                    write(member.getValue(), out);
                    separator = ",";
                }
                out.append('}');
            }
            case ARRAY -> {
                out.append('[');
                for (int i = 0; i < value.size(); i++) {
                    if (i > 0) {
                        out.append(',');
                    }
                    write(value.get(i), out);
                }
                out.append(']');
            }
            case STRING -> string(value.textValue(), out);
            case NUMBER -> out.append(number(value));
            case BOOLEAN -> out.append(value.booleanValue());
            case NULL -> out.append("null");
            default -> throw new IllegalStateException("not a JSON value: " + value.getNodeType());
        }
    }

    /** JCS numbers are IEEE 754 doubles: the text is parsed to the nearest double, then printed the ECMAScript way. */
    private static String number(JsonNode value) {
        double number = value.doubleValue();
        if (!Double.isFinite(number)) {
            throw CapabilityException.invalidArgument(
                    "the number " + value.asText() + " is outside the IEEE 754 double range that RFC 8785 requires");
        }
        try {
            return NumberToJSON.serializeNumber(number);
        } catch (IOException e) {
            throw new IllegalStateException("cannot format the finite number " + number, e);
        }
    }

    private static void string(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else if (Character.isSurrogate(c) && !isPairAt(text, i)) {
                        // UTF-8 cannot carry a lone surrogate, and RFC 8785 (via I-JSON) forbids them.
                        throw CapabilityException.invalidArgument(String.format(
                                "a string contains the lone surrogate \\u%04x, which RFC 8785 forbids", (int) c));
                    } else if (Character.isHighSurrogate(c)) {
                        out.append(c).append(text.charAt(++i));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private static boolean isPairAt(String text, int i) {
        return Character.isHighSurrogate(text.charAt(i))
                && i + 1 < text.length()
                && Character.isLowSurrogate(text.charAt(i + 1));
    }
}
