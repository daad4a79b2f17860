package io.capmesh.extensions.misbehaving.missingclass;

/** Compiled with the extension but left out of its jar on purpose (see this module's pom). */
public final class AbsentHelper {

    byte[] answer(byte[] payload) {
        return payload;
    }
}
