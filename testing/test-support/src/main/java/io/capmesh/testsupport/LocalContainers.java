package io.capmesh.testsupport;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Testcontainers on the images {@code tools/containers/ensure-engine.sh} builds on the local engine: image
 * {@code capmesh/<name>:latest} comes from {@code tools/containers/images/<name>/Dockerfile}. No registry is
 * reachable, so these containers never pull (see {@link LocalImagesOnly}).
 */
public final class LocalContainers {

    private LocalContainers() {
    }

    /** The locally built image {@code capmesh/<name>:latest}. */
    public static DockerImageName image(String name) {
        return DockerImageName.parse("capmesh/" + name + ":latest");
    }

    /**
     * PostgreSQL 15 on {@code capmesh/postgres}, which honours {@code POSTGRES_USER}, {@code POSTGRES_PASSWORD} and
     * {@code POSTGRES_DB} like the official image. Database, user and password are "test" unless changed.
     */
    public static PostgreSQLContainer postgres() {
        return new PostgreSQLContainer(image("postgres").asCompatibleSubstituteFor(PostgreSQLContainer.IMAGE))
            .withImagePullPolicy(new LocalImagesOnly());
    }

    /** A container of any image under {@code tools/containers/images}, for the caller to configure. */
    public static GenericContainer<?> container(String name) {
        return new GenericContainer<>(image(name)).withImagePullPolicy(new LocalImagesOnly());
    }
}
