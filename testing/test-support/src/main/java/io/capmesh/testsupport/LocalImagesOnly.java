package io.capmesh.testsupport;

import com.github.dockerjava.api.exception.NotFoundException;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.ImagePullPolicy;
import org.testcontainers.utility.DockerImageName;

/**
 * Never pulls: an image must already be on the local engine. No registry is reachable here, and a pull would
 * only be retried for minutes before failing; this fails at once and says what to do instead. It is also the
 * default policy of every container on a class path with this module ({@code testcontainers.properties}).
 */
public final class LocalImagesOnly implements ImagePullPolicy {

    @Override
    public boolean shouldPull(DockerImageName imageName) {
        try {
            DockerClientFactory.instance().client().inspectImageCmd(imageName.asCanonicalNameString()).exec();
            return false;
        } catch (NotFoundException e) {
            throw new IllegalStateException("Image " + imageName.asCanonicalNameString()
                + " is not on the local Docker engine and nothing is pulled here. Project images are built by"
                + " tools/containers/ensure-engine.sh (./mvnw verify runs it before integration tests); Testcontainers'"
                + " own helper images are unavailable, so set TESTCONTAINERS_RYUK_DISABLED=true.", e);
        }
    }
}
