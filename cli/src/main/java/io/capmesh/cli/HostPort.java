package io.capmesh.cli;

import io.capmesh.proto.v1.Endpoint;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import picocli.CommandLine;

/** A {@code host:port} address as given on the command line. */
public record HostPort(String host, int port) implements Address {

    public HostPort {
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("the host is missing");
        }
        if (port < 1 || port > 65_535) {
            throw new IllegalArgumentException("the port must be from 1 to 65535, got " + port);
        }
    }

    public static HostPort loopback(int port) {
        return new HostPort("127.0.0.1", port);
    }

    public static HostPort of(Endpoint endpoint) {
        return new HostPort(endpoint.getHost(), endpoint.getPort());
    }

    /** Parses {@code host:port} (or {@code [v6]:port}). */
    public static HostPort parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        try {
            return new HostPort(host, Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not host:port: the port is not a number");
        }
    }

    /** Whether something accepts TCP connections there: tells "nothing listens" from "it answered no". */
    public boolean accepts() {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(host, port), 1_000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** The gRPC target. */
    public String target() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }

    @Override
    public String toString() {
        return target();
    }

    /** Lets picocli take {@code host:port} options; a malformed one is a usage error. */
    static final class Converter implements CommandLine.ITypeConverter<HostPort> {
        @Override
        public HostPort convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
