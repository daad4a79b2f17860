package io.capmesh.access;

import io.capmesh.proto.client.CallHeaders;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCall;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Checks every call against the service's {@link AccessPolicy} before it runs: who the caller is (the common name
 * of its client certificate, or the subject of a bearer token, which wins when both are there), whether that
 * principal holds the role the method needs, and for data-plane calls whether the lease token is valid. Refusals
 * are {@code UNAUTHENTICATED} (no or bad credentials) or {@code PERMISSION_DENIED} (known, but not allowed), with a
 * message that says what to do. Control-plane calls and every refusal are written to the {@link AuditLog}.
 */
public final class AccessInterceptor implements ServerInterceptor {

    private final AccessPolicy policy;
    private final Grants grants;
    private final Tokens bearerTokens;
    private final Tokens leaseTokens;
    private final Revocations revocations;
    private final Map<String, Role> methodRoles;
    private final AuditLog audit;
    private final Clock clock;

    /**
     * @param bearerTokens verifies bearer tokens (issuers trusted to name principals)
     * @param leaseTokens  verifies lease tokens (brokers trusted to grant leases)
     * @param methodRoles  roles some data-plane methods need on top of a lease (key management)
     */
    public AccessInterceptor(AccessPolicy policy, Grants grants, Tokens bearerTokens, Tokens leaseTokens,
                             Revocations revocations, Map<String, Role> methodRoles, AuditLog audit, Clock clock) {
        this.policy = policy;
        this.grants = grants;
        this.bearerTokens = bearerTokens;
        this.leaseTokens = leaseTokens;
        this.revocations = revocations;
        this.methodRoles = Map.copyOf(methodRoles);
        this.audit = audit;
        this.clock = clock;
    }

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
                                                      ServerCallHandler<Q, A> next) {
        String method = call.getMethodDescriptor().getFullMethodName();
        Requirement requirement = AccessPolicy.isInfrastructure(method) ? Requirement.OPEN
                : policy.requirementFor(method);
        if (requirement instanceof Requirement.Open) {
            return next.startCall(call, headers);
        }
        Principal principal;
        try {
            principal = principal(call, headers);
        } catch (Tokens.InvalidTokenException e) {
            return refuse(call, Principal.ANONYMOUS, null, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
        }
        LeaseToken lease = null;
        Status refusal = null;
        if (requirement instanceof Requirement.HasRole r) {
            refusal = authenticated(principal, method);
            if (refusal == null && !grants.has(principal, r.role())) {
                refusal = Status.PERMISSION_DENIED.withDescription(principal + " lacks the role "
                        + r.role().name().toLowerCase() + " that " + method + " needs; grant it with "
                        + "capmesh.access.principals." + principal.name() + ".roles");
            }
        } else if (requirement instanceof Requirement.Lease) {
            String token = headers.get(CallHeaders.LEASE);
            if (token == null) {
                refusal = Status.UNAUTHENTICATED.withDescription(method + " needs the lease token that Acquire "
                        + "returned, in the " + CallHeaders.LEASE.name() + " header");
            } else {
                try {
                    lease = leaseTokens.verifyLease(token);
                    if (revocations.isRevoked(lease.leaseId())) {
                        refusal = Status.PERMISSION_DENIED.withDescription("lease " + lease.leaseId()
                                + " was released; acquire a new one");
                    }
                } catch (Tokens.InvalidTokenException e) {
                    refusal = Status.UNAUTHENTICATED.withDescription(e.getMessage());
                }
            }
        } else {
            refusal = authenticated(principal, method);
        }
        String detail = lease == null ? null : "lease " + lease.leaseId() + " account " + lease.account();
        if (refusal != null) {
            return refuse(call, principal, detail, refusal);
        }
        boolean auditAll = requirement instanceof Requirement.HasRole;
        ServerCall<Q, A> audited = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (auditAll || status.getCode() == Status.Code.PERMISSION_DENIED
                        || status.getCode() == Status.Code.UNAUTHENTICATED) {
                    record(call, principal, detail, status);
                }
                super.close(status, trailers);
            }
        };
        Context context = Context.current().withValue(CallAccess.KEY,
                new CallAccess(principal, grants, lease, methodRoles));
        return Contexts.interceptCall(context, audited, headers, next);
    }

    private static Status authenticated(Principal principal, String method) {
        return principal.authenticated() ? null : Status.UNAUTHENTICATED.withDescription(method + " needs "
                + "credentials: a client certificate (mutual TLS) or a bearer token in the authorization header");
    }

    private Principal principal(ServerCall<?, ?> call, Metadata headers) throws Tokens.InvalidTokenException {
        String authorization = headers.get(CallHeaders.AUTHORIZATION);
        if (authorization != null) {
            if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
                throw new Tokens.InvalidTokenException("the authorization header must be 'Bearer <token>'");
            }
            return new Principal(bearerTokens.verifyAccess(authorization.substring(7).trim()), "token");
        }
        SSLSession tls = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (tls != null) {
            try {
                Certificate[] chain = tls.getPeerCertificates();
                if (chain.length > 0 && chain[0] instanceof X509Certificate certificate) {
                    return new Principal(commonName(certificate), "mtls");
                }
            } catch (SSLPeerUnverifiedException e) {
                // TLS without a client certificate: no identity from the transport
            }
        }
        return Principal.ANONYMOUS;
    }

    private static String commonName(X509Certificate certificate) throws Tokens.InvalidTokenException {
        try {
            for (Rdn rdn : new LdapName(certificate.getSubjectX500Principal().getName()).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            // falls through to the refusal below
        }
        throw new Tokens.InvalidTokenException("the client certificate names no common name (CN)");
    }

    private <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Principal principal, String detail,
                                                 Status status) {
        record(call, principal, detail, status);
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }

    private void record(ServerCall<?, ?> call, Principal principal, String detail, Status status) {
        Object peer = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        audit.record(new AuditLog.Entry(clock.instant(), principal, call.getMethodDescriptor().getFullMethodName(),
                String.valueOf(peer), detail, status));
    }
}
