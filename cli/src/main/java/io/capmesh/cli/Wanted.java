package io.capmesh.cli;

import io.capmesh.proto.v1.CapabilityRequest;
import picocli.CommandLine;

/** A capability asked for on the command line as {@code NAME[@RANGE]}, e.g. {@code core.json@^1}. */
record Wanted(String name, String range) {

    CapabilityRequest toRequest() {
        return CapabilityRequest.newBuilder().setName(name).setVersionRange(range).build();
    }

    @Override
    public String toString() {
        return range.isEmpty() ? name : name + "@" + range;
    }

    static final class Converter implements CommandLine.ITypeConverter<Wanted> {
        @Override
        public Wanted convert(String value) {
            int at = value.indexOf('@');
            String name = (at < 0 ? value : value.substring(0, at)).trim();
            String range = at < 0 ? "" : value.substring(at + 1).trim();
            if (name.isEmpty()) {
                throw new CommandLine.TypeConversionException("'" + value + "' names no capability: write NAME or"
                        + " NAME@RANGE, e.g. core.json@^1");
            }
            return new Wanted(name, range);
        }
    }
}
