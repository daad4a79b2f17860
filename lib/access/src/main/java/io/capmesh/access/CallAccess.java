package io.capmesh.access;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Collection;
import java.util.Map;

/**
 * What the access check established for the call in progress: the principal, its grants, and the lease it
 * presented. Services ask it the questions only they can answer, such as whether a lease covers the capability an
 * {@code Invoke} names. Where access control is off there is none, and every question answers yes.
 *
 * @param methodRoles roles some methods need on top of a lease, by {@code capability/method} or full gRPC name
 */
public record CallAccess(Principal principal, Grants grants, LeaseToken lease, Map<String, Role> methodRoles) {

    static final Context.Key<CallAccess> KEY = Context.key("capmesh-access");

    /** The call's access, or null where access control is off. */
    public static CallAccess current() {
        return KEY.get();
    }

    /** An {@code Invoke} of {@code capability/method}: the lease must cover it, and some methods need a role. */
    public static void checkInvoke(String capability, String method) {
        CallAccess access = current();
        if (access != null) {
            access.requireLeaseFor(capability);
            access.requireMethodRole(capability + "/" + method);
        }
    }

    /**
     * A call to a typed service of an extension that provides {@code capabilities}: the lease must cover one of
     * them, and some methods need a role.
     */
    public static void checkTyped(String fullMethodName, Collection<String> capabilities) {
        CallAccess access = current();
        if (access == null) {
            return;
        }
        if (access.lease == null || capabilities.stream().noneMatch(access.lease::covers)) {
            throw denied("lease " + leaseId(access) + " does not cover " + String.join(" or ", capabilities)
                    + ", which serves " + fullMethodName + "; acquire it");
        }
        access.requireMethodRole(fullMethodName);
    }

    /** Leases are taken, renewed and released only for accounts granted to the principal. */
    public static void checkAccount(String account) {
        CallAccess access = current();
        if (access != null && !access.grants.mayActFor(access.principal, account)) {
            throw denied(access.principal.name() + " may not act for account '" + account + "'; grant it with "
                    + "capmesh.access.principals." + access.principal.name() + ".accounts");
        }
    }

    private void requireLeaseFor(String capability) {
        if (lease == null || !lease.covers(capability)) {
            throw denied("lease " + leaseId(this) + " does not cover " + capability + "; acquire it");
        }
    }

    private void requireMethodRole(String method) {
        Role role = methodRoles.get(method);
        if (role != null && !grants.has(principal, role)) {
            throw denied(principal + " lacks the role " + role.name().toLowerCase() + " that " + method
                    + " needs");
        }
    }

    private static String leaseId(CallAccess access) {
        return access.lease == null ? "(none)" : access.lease.leaseId();
    }

    private static StatusRuntimeException denied(String message) {
        return Status.PERMISSION_DENIED.withDescription(message).asRuntimeException();
    }
}
