package io.capmesh.runtime.grpc;

import com.google.protobuf.Timestamp;
import io.capmesh.proto.v1.AvailableExtension;
import io.capmesh.proto.v1.ChildProcess;
import io.capmesh.proto.v1.Capability;
import io.capmesh.proto.v1.Dependency;
import io.capmesh.proto.v1.ExtensionInfo;
import io.capmesh.proto.v1.ExtensionManifest;
import io.capmesh.proto.v1.Isolation;
import io.capmesh.proto.v1.LeakPath;
import io.capmesh.proto.v1.LeakStep;
import io.capmesh.proto.v1.Reclamation;
import io.capmesh.proto.v1.UnloadResponse;
import io.capmesh.runtime.ExtensionRuntime;
import io.capmesh.runtime.isolation.ChildStatus;
import io.capmesh.runtime.loader.LoadedExtension;
import java.time.Instant;
import java.util.TreeSet;

/** The protobuf views of the runtime's records. */
final class ProtoViews {

    private ProtoViews() {
    }

    static ExtensionInfo info(LoadedExtension ext) {
        ExtensionInfo info = ExtensionInfo.newBuilder()
                .setManifest(manifest(ext.manifest()))
                .setSha256(ext.pkg().sha256())
                .setSizeBytes(ext.pkg().size())
                .setDeployedAt(Timestamp.newBuilder().setSeconds(ext.deployedAt().getEpochSecond())
                        .setNanos(ext.deployedAt().getNano()))
                .setInvocations(ext.invocations())
                .setFailures(ext.failures())
                .addAllServices(ext.serviceNames())
                .setHibernated(ext.hibernated())
                .build();
        return ext.childStatus().map(status -> info.toBuilder().setChildProcess(childProcess(status)).build())
                .orElse(info);
    }

    static ChildProcess childProcess(ChildStatus status) {
        ChildProcess.Builder b = ChildProcess.newBuilder()
                .setState(switch (status.state()) {
                    case SERVING -> ChildProcess.State.SERVING;
                    case RESTARTING -> ChildProcess.State.RESTARTING;
                    case STOPPED -> ChildProcess.State.STOPPED;
                })
                .setPid(status.state() == ChildStatus.State.SERVING ? status.pid() : 0)
                .setRestarts(status.restarts())
                .setMaxHeap(status.maxHeap());
        if (status.lastExit() != null) {
            b.setLastExit(status.lastExit().cause())
                    .setLastExitAt(Timestamp.newBuilder().setSeconds(status.lastExit().at().getEpochSecond())
                            .setNanos(status.lastExit().at().getNano()));
        }
        return b.build();
    }

    static AvailableExtension available(ExtensionRuntime.Available available) {
        return AvailableExtension.newBuilder()
                .setManifest(manifest(available.pkg().manifest()))
                .setSizeBytes(available.pkg().size())
                .setEstimatedLoadMicros(available.estimatedLoadMicros())
                .build();
    }

    static ExtensionManifest manifest(io.capmesh.runtime.pkg.ExtensionManifest m) {
        ExtensionManifest.Builder b = ExtensionManifest.newBuilder()
                .setId(m.id()).setVersion(m.version()).setEntryClass(m.entryClass())
                .setIsolation(m.isolation().equals("process") ? Isolation.ISOLATION_PROCESS
                        : Isolation.ISOLATION_IN_PROCESS);
        m.capabilities().forEach(c -> b.addCapabilities(Capability.newBuilder().setName(c.name())
                .setVersion(c.version()).addAllMethods(new TreeSet<>(c.methods()))));
        m.dependencies().forEach(d -> b.addDependencies(Dependency.newBuilder().setCapability(d.capability())
                .setVersionRange(d.versionRange() == null ? "" : d.versionRange())));
        return b.build();
    }

    static UnloadResponse unloaded(io.capmesh.runtime.reclaim.Reclamation r) {
        int at = r.coordinates().lastIndexOf('@');
        Reclamation.Builder reclamation = Reclamation.newBuilder()
                .setState(r.state() == io.capmesh.runtime.reclaim.Reclamation.State.COLLECTED
                        ? Reclamation.State.COLLECTED : Reclamation.State.LEAKED)
                .setElapsedMillis(r.millis())
                .addAllCauses(r.causes())
                .addAllCleaned(r.cleaned())
                .setLeakPathNote(r.leakPathNote());
        if (r.leakPath() != null) {
            LeakPath.Builder path = LeakPath.newBuilder().setGcRoot(r.leakPath().gcRoot());
            r.leakPath().steps().forEach(step -> path.addSteps(LeakStep.newBuilder().setObject(step.object())
                    .setReference(step.reference())));
            reclamation.setLeakPath(path);
        }
        if (r.collectedAt() != null) {
            reclamation.setCollectedAt(Timestamp.newBuilder().setSeconds(r.collectedAt().getEpochSecond())
                    .setNanos(r.collectedAt().getNano()));
        }
        return UnloadResponse.newBuilder()
                .setExtensionId(r.coordinates().substring(0, at))
                .setVersion(r.coordinates().substring(at + 1))
                .setReclamation(reclamation)
                .build();
    }

    static io.capmesh.proto.v1.BlockedExit blockedExit(io.capmesh.runtime.BlockedExit exit) {
        return io.capmesh.proto.v1.BlockedExit.newBuilder()
                .setVersion(exit.version())
                .setCall(exit.call())
                .setThread(exit.thread())
                .addAllFrames(exit.frames())
                .setAt(Timestamp.newBuilder().setSeconds(exit.at().getEpochSecond()).setNanos(exit.at().getNano()))
                .build();
    }

    static io.capmesh.proto.v1.QuarantinedExtension quarantined(ExtensionRuntime.Quarantined held) {
        Instant since = held.quarantine().since();
        return io.capmesh.proto.v1.QuarantinedExtension.newBuilder()
                .setManifest(manifest(held.stored().manifest()))
                .setReason(held.quarantine().reason())
                .setSince(Timestamp.newBuilder().setSeconds(since.getEpochSecond()).setNanos(since.getNano()))
                .build();
    }
}
