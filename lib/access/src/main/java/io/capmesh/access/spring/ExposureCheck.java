package io.capmesh.access.spring;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * A service with access control off lets every caller in, and a runtime's callers may deploy code: so such a
 * service listens only on loopback. Bound anywhere else (an address of this host, or every interface) it refuses
 * to start, unless {@code capmesh.access.insecure=true} says that is meant, and then it warns at every start.
 *
 * @param mode     {@code capmesh.access.mode}
 * @param insecure {@code capmesh.access.insecure}
 * @param address  {@code spring.grpc.server.address}; unset means every interface
 */
public record ExposureCheck(AccessProperties.Mode mode, boolean insecure, String address) {

    private static final System.Logger LOG = System.getLogger(ExposureCheck.class.getName());

    /** @throws IllegalStateException when the service would be open beyond loopback without being told it may */
    public void verify() {
        if (mode == AccessProperties.Mode.REQUIRED || loopback()) {
            return;
        }
        String where = address == null || address.isBlank() ? "every interface (spring.grpc.server.address unset)"
                : address + " (spring.grpc.server.address)";
        String risk = "access control is off (capmesh.access.mode), yet the gRPC server listens on " + where
                + ": anyone who reaches this host may call it, and a runtime's callers may deploy code into it";
        if (!insecure) {
            throw new IllegalStateException(risk + ". Bind it to loopback (spring.grpc.server.address=127.0.0.1), "
                    + "turn access control on (capmesh.access.mode=required), or accept the risk with "
                    + "capmesh.access.insecure=true");
        }
        LOG.log(System.Logger.Level.WARNING, "INSECURE: " + risk + " (capmesh.access.insecure=true)");
    }

    private boolean loopback() {
        if (address == null || address.isBlank()) {
            return false;
        }
        try {
            return InetAddress.getByName(address).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false; // the server will fail to bind it anyway, with its own message
        }
    }
}
