package io.capmesh.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Descriptors.ServiceDescriptor;
import io.capmesh.proto.v1.DescribeRequest;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.ListExtensionsRequest;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.runtime.loader.LoadedExtension;
import io.capmesh.runtime.pkg.Repackager;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An extension idle for {@code idle-eviction} is hibernated: unloaded with its classloader reclaimed, yet still
 * deployed and listed; its next call, by Invoke or by its typed service, reloads it from the store.
 */
class HibernationTest {

    @TempDir
    Path data;

    private TestRuntime hibernatingAfter300Ms() throws Exception {
        return new TestRuntime(RuntimeSettings.defaults(data).withIdleEviction(Duration.ofMillis(300)));
    }

    @Test
    void anIdleExtensionIsHibernatedAndItsNextInvokeReloadsIt() throws Exception {
        try (TestRuntime runtime = hibernatingAfter300Ms()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            AtomicInteger loads = countLoads(runtime);

            awaitHibernated(runtime);
            var described = runtime.stub().describe(DescribeRequest.newBuilder().setExtensionId("core-echo").build());
            assertThat(described.getUnloaded(0).getReclamation().getState())
                    .as("core-echo after hibernating: %s", described.getUnloaded(0))
                    .isEqualTo(Reclamation.State.COLLECTED);
            ExtensionInfo listed = listed(runtime);
            assertThat(listed.getHibernated()).isTrue();
            assertThat(listed.getManifest().getVersion()).isEqualTo("1.0.0");
            int loadsBefore = loads.get();

            var answer = runtime.invoke("core.echo", "echo", "awake");

            assertThat(TestRuntime.text(answer)).isEqualTo("awake");
            assertThat(answer.getExtensionVersion()).isEqualTo("1.0.0");
            assertThat(loads.get()).isEqualTo(loadsBefore + 1);
        }
    }

    @Test
    void aTypedServiceCallWakesAHibernatedExtension() throws Exception {
        try (TestRuntime runtime = hibernatingAfter300Ms()) {
            runtime.deploy(TestExtensions.bytes("capmesh-ext-echo"));
            ServiceDescriptor echo = describeTypedService(runtime);
            AtomicInteger loads = countLoads(runtime);

            awaitHibernated(runtime);
            int loadsBefore = loads.get();

            assertThat(TypedServicesTest.Reply.of(TypedServicesTest.callEcho(runtime.channel(), echo, "typed")))
                    .isEqualTo(new TypedServicesTest.Reply("typed", "1.0.0"));
            assertThat(loads.get()).isEqualTo(loadsBefore + 1);
        }
    }

    @Test
    void aHibernatedExtensionCanBeSwappedAndUnloaded() throws Exception {
        try (TestRuntime runtime = hibernatingAfter300Ms()) {
            byte[] v1 = TestExtensions.bytes("capmesh-ext-echo");
            runtime.deploy(v1);
            awaitHibernated(runtime);

            var swapped = runtime.swap(Repackager.withVersion(v1, "1.1.0"));
            assertThat(swapped.getCurrent().getManifest().getVersion()).isEqualTo("1.1.0");
            assertThat(runtime.invoke("core.echo", "echo", "x").getExtensionVersion()).isEqualTo("1.1.0");

            awaitHibernated(runtime);
            var unloaded = runtime.unload("core-echo");
            assertThat(unloaded.getReclamation().getState()).isEqualTo(Reclamation.State.COLLECTED);
            assertThat(runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance())
                    .getExtensionsList()).isEmpty();
            assertThatThrownBy(() -> runtime.invoke("core.echo", "echo", "x"))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        }
    }

    /** The schema of core-echo's typed service, which reflection lists only while core-echo is awake. */
    private static ServiceDescriptor describeTypedService(TestRuntime runtime) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            runtime.invoke("core.echo", "echo", "wake");
            try {
                return TypedServicesTest.Reflection.service(runtime.channel(), "capmesh.core.echo.v1.Echo");
            } catch (Exception | AssertionError e) {
                if (attempt == 20) {
                    throw new AssertionError("reflection never described core-echo's typed service", e);
                }
            }
        }
    }

    private static AtomicInteger countLoads(TestRuntime runtime) {
        AtomicInteger loads = new AtomicInteger();
        runtime.host().runtime().addListener(new RuntimeListener() {
            @Override
            public void published(LoadedExtension current, LoadedExtension replaced) {
                loads.incrementAndGet();
            }
        });
        return loads;
    }

    private static ExtensionInfo listed(TestRuntime runtime) {
        var extensions = runtime.stub().listExtensions(ListExtensionsRequest.getDefaultInstance())
                .getExtensionsList();
        assertThat(extensions).extracting(e -> e.getManifest().getId()).containsExactly("core-echo");
        return extensions.get(0);
    }

    private static boolean reclaimedWhileHibernated(TestRuntime runtime) {
        LoadedExtension ext = runtime.host().runtime().extension("core-echo").orElseThrow();
        var reclaimed = runtime.host().runtime().unloaded("core-echo");
        return ext.hibernated() && listed(runtime).getHibernated() && !reclaimed.isEmpty()
                && reclaimed.get(0).coordinates().equals(ext.manifest().coordinates());
    }

    /** Waits until core-echo is hibernated and its classloader's reclamation was recorded. */
    private static void awaitHibernated(TestRuntime runtime) throws InterruptedException {
        long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!reclaimedWhileHibernated(runtime)) {
            if (System.nanoTime() > giveUp) {
                throw new AssertionError("core-echo was not hibernated within 30 s");
            }
            Thread.sleep(20);
        }
    }
}
