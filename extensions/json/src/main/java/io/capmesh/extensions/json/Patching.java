package io.capmesh.extensions.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.flipkart.zjsonpatch.CompatibilityFlags;
import com.flipkart.zjsonpatch.InvalidJsonPatchException;
import com.flipkart.zjsonpatch.JsonPatch;
import com.flipkart.zjsonpatch.JsonPatchApplicationException;
import io.capmesh.extension.api.CapabilityException;
import java.util.EnumSet;

/** RFC 6902 JSON Patch over zjsonpatch, one operation at a time so that a failure names its operation. */
final class Patching {

    /** zjsonpatch by default lets {@code remove} of a missing member pass; RFC 6902 says the target must exist. */
    private static final EnumSet<CompatibilityFlags> RFC_6902 =
            EnumSet.of(CompatibilityFlags.FORBID_REMOVE_MISSING_OBJECT);

    private Patching() {
    }

    /** {@code {"document": <any>, "patch": [operations]}} to the patched document. */
    static JsonNode patch(JsonNode request) {
        Json.requireMembers(request, "patch", "document", "patch");
        JsonNode operations = request.get("patch");
        if (!operations.isArray()) {
            throw CapabilityException.invalidArgument("'patch' must be an array of RFC 6902 operations");
        }
        // Check every operation's shape first: a malformed patch is the caller's bug even if an earlier test fails.
        for (int i = 0; i < operations.size(); i++) {
            try {
                JsonPatch.validate(single(operations.get(i)), RFC_6902);
            } catch (InvalidJsonPatchException | IllegalArgumentException e) {
                throw CapabilityException.invalidArgument("patch operation " + i + " is malformed: " + e.getMessage());
            } catch (IndexOutOfBoundsException e) {
                throw CapabilityException.invalidArgument(
                        "patch operation " + i + " is malformed: a JSON Pointer ends in an incomplete '~' escape");
            }
        }
        JsonNode document = request.get("document"); // this call's own tree, so patched in place
        for (int i = 0; i < operations.size(); i++) {
            JsonNode operation = operations.get(i);
            try {
                if (operation.get("path").textValue().isEmpty()) {
                    // In place, a new root would be lost; the copying form returns it.
                    document = JsonPatch.apply(single(compensated(operation)), document, RFC_6902);
                } else {
                    JsonPatch.applyInPlace(single(compensated(operation)), document, RFC_6902);
                }
            } catch (JsonPatchApplicationException | IllegalStateException | IllegalArgumentException
                     | IndexOutOfBoundsException e) {
                // Beyond its own exception, zjsonpatch reports array indexes that are not numbers, or too large for
                // an int, with these: targets that do not exist either.
                throw new CapabilityException(CapabilityException.Reason.FAILED_PRECONDITION,
                        "patch operation " + i + " (" + operation.get("op").textValue() + " at path '"
                                + operation.get("path").textValue() + "') failed: " + e.getMessage());
            }
        }
        return document;
    }

    /**
     * zjsonpatch 0.4.16 decodes the last reference token of a pointer twice, so {@code /~01} would name the member
     * "/" instead of "~1" (RFC 6902 example A.14). Escaping that token's tildes once more undoes the second pass.
     */
    private static JsonNode compensated(JsonNode operation) {
        ObjectNode copy = Json.MAPPER.createObjectNode().setAll((ObjectNode) operation);
        for (String member : new String[] {"path", "from"}) {
            JsonNode pointer = operation.get(member);
            if (pointer != null) {
                String text = pointer.textValue();
                int last = text.lastIndexOf('/');
                copy.put(member, text.substring(0, last + 1) + text.substring(last + 1).replace("~", "~0"));
            }
        }
        return copy;
    }

    private static ArrayNode single(JsonNode operation) {
        return Json.MAPPER.createArrayNode().add(operation);
    }
}
