package io.capmesh.access;

import java.util.Map;
import java.util.Set;

/**
 * The roles and accounts each principal is granted, by principal name (a certificate's common name or a token's
 * subject). A principal not listed is authenticated but may only read.
 */
public record Grants(Map<String, Grant> byPrincipal) {

    /** Every account: for operators and for services that act on behalf of any account. */
    public static final String ANY_ACCOUNT = "*";

    public static final Grants NONE = new Grants(Map.of());

    /**
     * @param roles    what the principal may do
     * @param accounts whose leases it may take, renew and release ({@value #ANY_ACCOUNT}: any)
     */
    public record Grant(Set<Role> roles, Set<String> accounts) {
        public Grant {
            roles = roles == null ? Set.of() : Set.copyOf(roles);
            accounts = accounts == null ? Set.of() : Set.copyOf(accounts);
        }
    }

    public Grants {
        byPrincipal = Map.copyOf(byPrincipal);
    }

    public boolean has(Principal principal, Role role) {
        Grant grant = principal.authenticated() ? byPrincipal.get(principal.name()) : null;
        return grant != null && grant.roles().contains(role);
    }

    public boolean mayActFor(Principal principal, String account) {
        Grant grant = principal.authenticated() ? byPrincipal.get(principal.name()) : null;
        return grant != null && grant.roles().contains(Role.ACQUIRE)
                && (grant.accounts().contains(ANY_ACCOUNT) || grant.accounts().contains(account));
    }
}
