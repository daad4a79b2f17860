package io.capmesh.stub;

import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import io.capmesh.proto.v1.AcquireRequest;
import io.capmesh.proto.v1.AcquireResponse;
import io.capmesh.proto.v1.AcquiredCapability;
import io.capmesh.proto.v1.CapabilityBrokerGrpc;
import io.capmesh.proto.v1.CapabilityRequest;
import io.capmesh.proto.v1.Endpoint;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.MissingCapability;
import io.capmesh.proto.v1.ReleaseRequest;
import io.capmesh.proto.v1.ReleaseResponse;
import io.capmesh.proto.v1.RenewRequest;
import io.capmesh.proto.v1.RenewResponse;
import io.capmesh.proto.v1.RuntimeServiceGrpc;
import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Minimal broker and runtime on loopback for policy tests: real gRPC, scripted answers, counted calls. */
final class Fakes {

    private Fakes() {
    }

    static Server serve(BindableService service) throws IOException {
        return serve(service, 0);
    }

    static Server serve(BindableService service, int port) throws IOException {
        return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .addService(service).build().start();
    }

    static Endpoint endpoint(int port) {
        return Endpoint.newBuilder().setHost("127.0.0.1").setPort(port).setRuntimeId("rt-" + port).build();
    }

    /** An endpoint where nothing listens: connecting is refused at once. */
    static Endpoint nothingListening() throws IOException {
        return nothingListening(1).get(0);
    }

    /** Distinct endpoints where nothing listens (held open together while chosen, so no port repeats). */
    static List<Endpoint> nothingListening(int count) throws IOException {
        List<ServerSocket> sockets = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                sockets.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
            }
            return sockets.stream().map(socket -> endpoint(socket.getLocalPort())).toList();
        } finally {
            for (ServerSocket socket : sockets) {
                socket.close();
            }
        }
    }

    /** A runtime that answers scripted statuses first, then echoes the payload; every call lands in a shared log. */
    static final class Runtime extends RuntimeServiceGrpc.RuntimeServiceImplBase implements AutoCloseable {
        final String name;
        final List<String> log;
        final AtomicInteger calls = new AtomicInteger();
        final Deque<Status> script = new ArrayDeque<>();
        volatile Status always;       // answered to every call when set
        volatile Duration delay = Duration.ZERO;
        private final Server server;

        Runtime(String name, List<String> log) throws IOException {
            this.name = name;
            this.log = log;
            this.server = serve(this);
        }

        Endpoint endpoint() {
            return Fakes.endpoint(server.getPort());
        }

        Runtime failingWith(Status.Code... codes) {
            for (Status.Code code : codes) {
                script.add(Status.fromCode(code).withDescription(name + " says " + code));
            }
            return this;
        }

        @Override
        public void invoke(InvokeRequest request, StreamObserver<InvokeResponse> observer) {
            calls.incrementAndGet();
            log.add(name);
            Status scripted;
            synchronized (script) {
                scripted = script.poll();
            }
            scripted = scripted != null ? scripted : always;
            if (scripted != null) {
                observer.onError(scripted.asRuntimeException());
                return;
            }
            try {
                Thread.sleep(delay.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            observer.onNext(InvokeResponse.newBuilder().setPayload(ByteString.copyFromUtf8(name + ":")
                    .concat(request.getPayload())).build());
            observer.onCompleted();
        }

        @Override
        public void close() throws InterruptedException {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /**
     * A broker that grants every required capability on the endpoints it is told (the first one primary, the rest
     * fallbacks), reports every optional one missing, and keeps leases for {@link #ttl}.
     */
    static final class Broker extends CapabilityBrokerGrpc.CapabilityBrokerImplBase implements AutoCloseable {
        final Deque<List<Endpoint>> grants = new ArrayDeque<>(); // one per Acquire; the last one stays
        final AtomicInteger acquires = new AtomicInteger();
        final AtomicInteger renewals = new AtomicInteger();
        final List<String> released = Collections.synchronizedList(new java.util.ArrayList<>());
        final Set<String> leases = ConcurrentHashMap.newKeySet();
        volatile Duration ttl = Duration.ofSeconds(30);
        volatile Status renewFailure;
        private final Server server;

        Broker(List<Endpoint> endpoints) throws IOException {
            this(endpoints, 0);
        }

        /** A broker on a given port: to restart one where its clients expect it. */
        Broker(List<Endpoint> endpoints, int port) throws IOException {
            grants.add(endpoints);
            this.server = serve(this, port);
        }

        int port() {
            return server.getPort();
        }

        String target() {
            return "127.0.0.1:" + server.getPort();
        }

        Broker thenGrant(List<Endpoint> endpoints) {
            grants.add(endpoints);
            return this;
        }

        @Override
        public synchronized void acquire(AcquireRequest request, StreamObserver<AcquireResponse> observer) {
            String leaseId = "lease-" + acquires.incrementAndGet();
            List<Endpoint> endpoints = grants.size() > 1 ? grants.poll() : grants.peek();
            AcquireResponse.Builder response = AcquireResponse.newBuilder().setLeaseId(leaseId)
                    .setExpiresAt(expiry());
            for (CapabilityRequest wanted : request.getRequiredList()) {
                response.addAcquired(AcquiredCapability.newBuilder().setName(wanted.getName()).setVersion("1.0.0")
                        .setEndpoint(endpoints.get(0)).addAllFallbacks(endpoints.subList(1, endpoints.size())));
            }
            for (CapabilityRequest wanted : request.getOptionalList()) {
                response.addMissing(MissingCapability.newBuilder().setName(wanted.getName())
                        .setVersionRange(wanted.getVersionRange()).setReason("no runtime offers " + wanted.getName()));
            }
            leases.add(leaseId);
            observer.onNext(response.build());
            observer.onCompleted();
        }

        @Override
        public void renew(RenewRequest request, StreamObserver<RenewResponse> observer) {
            renewals.incrementAndGet();
            Status failure = renewFailure;
            if (failure != null) {
                observer.onError(failure.asRuntimeException());
            } else if (!leases.contains(request.getLeaseId())) {
                observer.onError(Status.NOT_FOUND.withDescription("lease " + request.getLeaseId()
                        + " is unknown or has expired").asRuntimeException());
            } else {
                observer.onNext(RenewResponse.newBuilder().setExpiresAt(expiry()).build());
                observer.onCompleted();
            }
        }

        @Override
        public void release(ReleaseRequest request, StreamObserver<ReleaseResponse> observer) {
            released.add(request.getLeaseId());
            if (leases.remove(request.getLeaseId())) {
                observer.onNext(ReleaseResponse.getDefaultInstance());
                observer.onCompleted();
            } else {
                observer.onError(Status.NOT_FOUND.asRuntimeException());
            }
        }

        private Timestamp expiry() {
            Instant at = Instant.now().plus(ttl);
            return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
        }

        @Override
        public void close() throws InterruptedException {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
