package io.capmesh.cli;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine;

/**
 * Where the broker is: one {@code host:port} (one replica, or a name or balancer in front of several), or several
 * replicas as {@code host:port,host:port}. A call goes to one of them and moves on to the next when it is gone.
 */
public record BrokerAddress(List<HostPort> replicas) implements Address {

    public BrokerAddress {
        if (replicas.isEmpty()) {
            throw new IllegalArgumentException("name at least one broker as host:port");
        }
        replicas = List.copyOf(replicas);
    }

    public static BrokerAddress of(HostPort replica) {
        return new BrokerAddress(List.of(replica));
    }

    /** {@code host:port}, or several separated by commas. */
    public static BrokerAddress parse(String text) {
        return new BrokerAddress(Arrays.stream(text.split(",", -1)).map(String::strip).map(HostPort::parse).toList());
    }

    @Override
    public boolean accepts() {
        return replicas.stream().anyMatch(HostPort::accepts);
    }

    /** The gRPC target: the replicas as a list that the broker channels resolve to each address. */
    @Override
    public String target() {
        return replicas.stream().map(HostPort::target).collect(Collectors.joining(","));
    }

    @Override
    public String toString() {
        return target();
    }

    /** Lets picocli take {@code --broker}; a malformed one is a usage error. */
    static final class Converter implements CommandLine.ITypeConverter<BrokerAddress> {
        @Override
        public BrokerAddress convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
