package io.capmesh.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import java.time.Instant;

/**
 * One JSON object per line on the {@code capmesh.audit} logger: who did what, when, from where, and how it ended.
 * Every control-plane call is recorded, and every refused call of any kind.
 */
public final class AuditLog {

    /** The logger's name, for routing audit lines to their own file or collector. */
    public static final String LOGGER = "capmesh.audit";

    private static final System.Logger LOG = System.getLogger(LOGGER);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One audited call. */
    public record Entry(Instant at, Principal principal, String method, String peer, String detail, Status status) {
    }

    public void record(Entry entry) {
        ObjectNode line = JSON.createObjectNode()
                .put("at", entry.at().toString())
                .put("principal", entry.principal().name())
                .put("via", entry.principal().via())
                .put("method", entry.method())
                .put("peer", entry.peer())
                .put("result", entry.status().getCode().name());
        if (entry.detail() != null && !entry.detail().isBlank()) {
            line.put("detail", entry.detail());
        }
        if (!entry.status().isOk() && entry.status().getDescription() != null) {
            line.put("reason", entry.status().getDescription());
        }
        LOG.log(System.Logger.Level.INFO, line.toString());
    }
}
