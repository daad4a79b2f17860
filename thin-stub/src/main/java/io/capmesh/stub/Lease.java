package io.capmesh.stub;

import io.grpc.Status;
import java.time.Instant;
import java.util.Optional;

/**
 * A lease as this client last knew it. Renewal happens in the background; when it fails, calls keep going to
 * the runtimes and the failure shows here (and in the log) instead of in a call.
 *
 * @param id                 the broker's lease id
 * @param expiresAt          when the broker lets it go unless it is renewed
 * @param lastRenewalFailure why the latest renewal failed; empty once a renewal succeeds
 */
public record Lease(String id, Instant expiresAt, Optional<Status> lastRenewalFailure) {
}
