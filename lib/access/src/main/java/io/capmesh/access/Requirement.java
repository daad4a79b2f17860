package io.capmesh.access;

/** What a call must show before it runs. */
public sealed interface Requirement {

    /** Anyone: health checks, which probes make without credentials. */
    Requirement OPEN = new Open();
    /** Any authenticated principal: reads such as listing capabilities or extensions. */
    Requirement AUTHENTICATED = new Authenticated();
    /** A lease token covering the capability called: every data-plane call. */
    Requirement LEASE = new Lease();

    static Requirement role(Role role) {
        return new HasRole(role);
    }

    record Open() implements Requirement {
    }

    record Authenticated() implements Requirement {
    }

    record HasRole(Role role) implements Requirement {
    }

    record Lease() implements Requirement {
    }
}
