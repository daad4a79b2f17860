package io.capmesh.stub;

/**
 * An optional capability the broker could not grant.
 *
 * @param name         the capability asked for
 * @param versionRange the range asked for ({@code ""}: any)
 * @param reason       the broker's reason, e.g. that no runtime offers it
 */
public record Missing(String name, String versionRange, String reason) {
}
