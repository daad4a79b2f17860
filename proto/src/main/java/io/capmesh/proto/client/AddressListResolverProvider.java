package io.capmesh.proto.client;

import io.grpc.Attributes;
import io.grpc.EquivalentAddressGroup;
import io.grpc.NameResolver;
import io.grpc.NameResolverProvider;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * Resolves {@code capmesh-list:///host1:port1,host2:port2} to those addresses, each its own group, so a channel
 * balances and fails over between them as it would between the addresses of a DNS name (names in the list are
 * looked up as it is read). Found by grpc-java through {@code META-INF/services}.
 */
public final class AddressListResolverProvider extends NameResolverProvider {

    static final String SCHEME = "capmesh-list";

    @Override
    public NameResolver newNameResolver(URI target, NameResolver.Args args) {
        if (!SCHEME.equals(target.getScheme())) {
            return null;
        }
        String list = target.getPath().startsWith("/") ? target.getPath().substring(1) : target.getPath();
        return new NameResolver() {
            private Listener2 listener;

            @Override
            public String getServiceAuthority() {
                return list.split(",", 2)[0];
            }

            @Override
            public void start(Listener2 listener) {
                this.listener = listener;
                resolve();
            }

            /** Called by the channel when a connection drops: names in the list are looked up again. */
            @Override
            public void refresh() {
                resolve();
            }

            private void resolve() {
                List<EquivalentAddressGroup> groups = new ArrayList<>();
                try {
                    for (String hostPort : list.split(",")) {
                        // each replica is checked against its own name under TLS, not the first one's
                        groups.add(new EquivalentAddressGroup(address(hostPort.strip()), Attributes.newBuilder()
                                .set(EquivalentAddressGroup.ATTR_AUTHORITY_OVERRIDE, hostPort.strip()).build()));
                    }
                } catch (IllegalArgumentException e) {
                    listener.onError(Status.UNAVAILABLE.withDescription(e.getMessage()));
                    return;
                }
                listener.onResult(ResolutionResult.newBuilder().setAddresses(groups).build());
            }

            @Override
            public void shutdown() {
            }
        };
    }

    private static SocketAddress address(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || colon == hostPort.length() - 1) {
            throw new IllegalArgumentException("'" + hostPort + "' is not host:port");
        }
        try {
            // a bracketed IPv6 literal ([::1]) is taken as it is by the lookup
            return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + hostPort + "' is not host:port: " + e.getMessage());
        }
    }

    @Override
    public String getDefaultScheme() {
        return SCHEME;
    }

    @Override
    protected boolean isAvailable() {
        return true;
    }

    /** Below DNS (5): used only for its own scheme, never as the default. */
    @Override
    protected int priority() {
        return 4;
    }

    @Override
    public Collection<Class<? extends SocketAddress>> getProducedSocketAddressTypes() {
        return List.of(InetSocketAddress.class);
    }
}
