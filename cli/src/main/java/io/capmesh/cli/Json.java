package io.capmesh.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.TypeAdapter;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import com.google.gson.stream.JsonWriter;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;

/** JSON for {@code --json} output and the state file: Gson for our records, protobuf's mapping for answers. */
final class Json {

    /** Indented, for a whole answer. */
    static final Gson PRETTY = builder().setPrettyPrinting().create();
    /** One value per line, for streams a script reads line by line. */
    static final Gson LINE = builder().create();

    private static final JsonFormat.Printer PROTO = JsonFormat.printer().omittingInsignificantWhitespace();

    private Json() {
    }

    /** A broker's or runtime's answer in protobuf's canonical JSON mapping. */
    static JsonElement of(MessageOrBuilder message) {
        try {
            return JsonParser.parseString(PROTO.print(message));
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("cannot print " + message.getClass().getSimpleName() + " as JSON", e);
        }
    }

    private static GsonBuilder builder() {
        return new GsonBuilder().disableHtmlEscaping()
                .registerTypeHierarchyAdapter(Path.class, new AsString<>(Path::of))
                .registerTypeAdapter(Instant.class, new AsString<>(Instant::parse))
                .registerTypeAdapter(Duration.class, new AsString<>(Duration::parse))
                .registerTypeAdapter(HostPort.class, new AsString<>(HostPort::parse));
    }

    /** A value written as its {@code toString()} and read back with a parser. */
    private static final class AsString<T> extends TypeAdapter<T> {
        private final Function<String, T> parser;

        AsString(Function<String, T> parser) {
            this.parser = parser;
        }

        @Override
        public void write(JsonWriter out, T value) throws IOException {
            if (value == null) {
                out.nullValue();
            } else {
                out.value(value.toString());
            }
        }

        @Override
        public T read(JsonReader in) throws IOException {
            if (in.peek() == JsonToken.NULL) {
                in.nextNull();
                return null;
            }
            return parser.apply(in.nextString());
        }
    }
}
