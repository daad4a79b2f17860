package io.capmesh.access.spring;

import io.capmesh.access.Grants;
import io.capmesh.access.Role;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code capmesh.access.*}: who may call this service.
 *
 * @param mode          {@code off} (the default for a local mesh: every call is let in) or {@code required}
 *                      (production: every call but health checks must show credentials or a lease)
 * @param tokenIssuers  public keys (ECDSA P-256) whose bearer tokens name principals: PEM text, files or directories
 * @param leaseIssuers  public keys of the brokers whose lease tokens runtimes accept
 * @param principals    roles and accounts granted, by principal name (certificate CN or token subject)
 * @param methodRoles   roles some data-plane methods need on top of a lease, by {@code capability/method} or full
 *                      gRPC method name (key management in the crypto runtime)
 * @param tokenFile     this service's own bearer token for its outgoing calls (when it has no client
 *                      certificate); empty: none
 * @param insecure      lets a service with access control off listen beyond loopback, which it otherwise refuses
 *                      (anyone who reaches it could deploy code); it then warns at every start
 */
@ConfigurationProperties("capmesh.access")
public record AccessProperties(
        @DefaultValue("off") Mode mode,
        @DefaultValue List<String> tokenIssuers,
        @DefaultValue List<String> leaseIssuers,
        @DefaultValue Map<String, Principal> principals,
        @DefaultValue Map<String, Role> methodRoles,
        String tokenFile,
        @DefaultValue("false") boolean insecure) {

    public enum Mode { OFF, REQUIRED }

    /** @param accounts whose leases the principal may take ({@code *}: any) */
    public record Principal(@DefaultValue Set<Role> roles, @DefaultValue Set<String> accounts) {
    }

    public Grants grants() {
        Map<String, Grants.Grant> byName = new java.util.HashMap<>();
        principals.forEach((name, p) -> byName.put(name, new Grants.Grant(p.roles(), p.accounts())));
        return new Grants(byName);
    }
}
