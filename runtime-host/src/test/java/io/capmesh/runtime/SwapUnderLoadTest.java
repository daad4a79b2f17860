package io.capmesh.runtime;

import io.capmesh.runtime.pkg.Repackager;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.capmesh.proto.v1.InvokeRequest;
import io.capmesh.proto.v1.InvokeResponse;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.SwapResponse;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SwapUnderLoadTest {

    private static final int IN_FLIGHT = 1000;

    @TempDir
    Path data;

    @Test
    void swapWithAThousandCallsInFlightFailsNoneAndEachIsServedByOneVersion() throws Exception {
        try (TestRuntime runtime = TestRuntime.in(data)) {
            byte[] v1 = TestExtensions.bytes("capmesh-ext-echo");
            runtime.deploy(v1);

            List<Throwable> failures = new CopyOnWriteArrayList<>();
            Map<String, AtomicInteger> servedBy = new ConcurrentHashMap<>();
            CountDownLatch held = new CountDownLatch(IN_FLIGHT);
            for (int i = 0; i < IN_FLIGHT; i++) {
                runtime.async().invoke(hold(4_000), collect(held, failures, servedBy));
            }
            var echo = runtime.host().runtime().extension("core-echo").orElseThrow();
            long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (echo.inFlight() < IN_FLIGHT && System.nanoTime() < waitUntil) {
                Thread.sleep(5);
            }
            assertThat(echo.inFlight()).as("calls in flight when the swap starts").isEqualTo(IN_FLIGHT);

            // keep new calls coming during the swap as well
            AtomicBoolean swapping = new AtomicBoolean(true);
            List<String> duringSwap = new CopyOnWriteArrayList<>();
            Thread traffic = new Thread(() -> {
                while (swapping.get()) {
                    try {
                        InvokeResponse r = runtime.stub().invoke(hold(0));
                        duringSwap.add(r.getExtensionVersion() + "|" + r.getPayload().toStringUtf8());
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            });
            traffic.start();
            SwapResponse swapped = runtime.swap(Repackager.withVersion(v1, "1.1.0"));
            swapping.set(false);
            traffic.join();

            assertThat(held.await(30, TimeUnit.SECONDS)).isTrue();
            assertThat(failures).isEmpty();
            assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.1.0");
            assertThat(swapped.getPrevious().getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
            // every call that was in flight finished on the version it started on
            assertThat(servedBy).containsOnlyKeys("1.0.0");
            assertThat(servedBy.get("1.0.0")).hasValue(IN_FLIGHT);
            // and every answer came wholly from one version: the instance that ran it says the same version
            assertThat(duringSwap).isNotEmpty().allSatisfy(line -> {
                String[] parts = line.split("\\|");
                assertThat(parts[1]).startsWith(parts[0] + " ");
            });
            assertThat(TestRuntime.text(runtime.stub().invoke(hold(0)))).startsWith("1.1.0 ");
        }
    }

    private static InvokeRequest hold(long millis) {
        return InvokeRequest.newBuilder().setCapability("core.echo").setMethod("hold")
                .setPayload(ByteString.copyFrom(Long.toString(millis), StandardCharsets.UTF_8)).build();
    }

    private static StreamObserver<InvokeResponse> collect(CountDownLatch done, List<Throwable> failures,
                                                          Map<String, AtomicInteger> servedBy) {
        return new StreamObserver<>() {
            @Override
            public void onNext(InvokeResponse r) {
                String ranAs = r.getPayload().toStringUtf8().split(" ")[0];
                if (!ranAs.equals(r.getExtensionVersion())) {
                    failures.add(new AssertionError("answered as " + r.getExtensionVersion() + " but ran as " + ranAs));
                }
                servedBy.computeIfAbsent(r.getExtensionVersion(), v -> new AtomicInteger()).incrementAndGet();
            }

            @Override
            public void onError(Throwable t) {
                failures.add(t);
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        };
    }
}
