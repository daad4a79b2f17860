package io.capmesh.access;

import java.util.Objects;

/**
 * Who made a call, and how that was established.
 *
 * @param name the certificate's common name, or the token's subject
 * @param via  {@code mtls}, {@code token}, or {@code none} for a caller that showed no credentials
 */
public record Principal(String name, String via) {

    public static final Principal ANONYMOUS = new Principal("anonymous", "none");

    public Principal {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(via, "via");
    }

    public boolean authenticated() {
        return !via.equals("none");
    }

    @Override
    public String toString() {
        return name + " (" + via + ")";
    }
}
