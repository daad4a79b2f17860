package io.capmesh.broker.acquire;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Instants as protobuf timestamps. */
public final class Timestamps {

    private Timestamps() {
    }

    public static Timestamp of(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
